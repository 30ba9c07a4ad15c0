package serve

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// BatchOptions are TensorFlow Serving's batching parameters (its BatchingParameters), with the
// same meanings.
type BatchOptions struct {
	// MaxBatchSize is the most rows (images) in one Session.Run; 1 runs every image alone, as the
	// library's batch-1 Encode does (--exact).
	MaxBatchSize int
	// BatchTimeout is batch_timeout_micros: how long a batch that is not full may wait for more
	// rows after its first one arrived. 0 runs what is queued at once. While every batch thread is
	// busy a batch keeps filling regardless, so load batches itself even with 0.
	BatchTimeout time.Duration
	// MaxEnqueuedBatches is max_enqueued_batches: how many full batches may wait for a thread;
	// a request beyond that is refused with ErrQueueFull instead of waiting without bound.
	MaxEnqueuedBatches int
	// NumBatchThreads is num_batch_threads: how many batches run at once.
	NumBatchThreads int
}

// predictor runs a float32 batch; *tfmodel.Model is one.
type predictor interface {
	Predict(ctx context.Context, input []float32, shape []int64) ([]float32, []int64, error)
}

// task is one caller's rows waiting to be batched.
type task struct {
	ctx  context.Context
	x    []float32
	rows int
	done chan taskResult
}

type taskResult struct {
	y   []float32
	dim []int64 // output shape after the batch dimension
	err error
}

type batch struct {
	tasks []*task
	rows  int
}

// batcher merges concurrent Predict calls into one model run, as TensorFlow Serving's shared batch
// scheduler does. Each row of a batch is computed independently by the model, so a caller's
// answer depends on its companions only by TensorFlow's batch-size-dependent rounding.
type batcher struct {
	model   predictor
	rowLen  int     // float32 values per row
	inShape []int64 // input shape after the batch dimension
	opts    BatchOptions
	in      chan *task
	ready   chan *batch
	stop    chan struct{}
	closed  chan struct{} // closed once every batch thread has returned
	wg      sync.WaitGroup

	onBatch func(rows int) // metrics hook
}

func newBatcher(model predictor, inShape []int64, opts BatchOptions) *batcher {
	if opts.MaxBatchSize < 1 {
		opts.MaxBatchSize = 1
	}
	if opts.MaxEnqueuedBatches < 1 {
		opts.MaxEnqueuedBatches = 1
	}
	if opts.NumBatchThreads < 1 {
		opts.NumBatchThreads = 1
	}
	rowLen := 1
	for _, d := range inShape {
		rowLen *= int(d)
	}
	b := &batcher{
		model: model, rowLen: rowLen, inShape: inShape, opts: opts,
		// The queue holds max_enqueued_batches batches' worth of tasks beyond the one filling.
		in:     make(chan *task, opts.MaxEnqueuedBatches*opts.MaxBatchSize),
		ready:  make(chan *batch),
		stop:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	b.wg.Add(1 + opts.NumBatchThreads)
	go b.collect()
	for range opts.NumBatchThreads {
		go b.work()
	}
	return b
}

// queued is the number of tasks waiting in the queue (the queue depth metric).
func (b *batcher) queued() int { return len(b.in) }

// Predict runs the rows of input (shape[0] of them) in as few batches as the size limit allows,
// together with whatever other callers submitted meanwhile.
func (b *batcher) Predict(ctx context.Context, input []float32, shape []int64) ([]float32, []int64, error) {
	if len(shape) != len(b.inShape)+1 {
		return nil, nil, fmt.Errorf("input rank %d, model takes %d", len(shape), len(b.inShape)+1)
	}
	for i, d := range b.inShape {
		if shape[i+1] != d {
			return nil, nil, fmt.Errorf("input shape %v, model takes (n, %v)", shape, b.inShape)
		}
	}
	n := int(shape[0])
	if len(input) != n*b.rowLen {
		return nil, nil, fmt.Errorf("input has %d values, shape %v needs %d", len(input), shape, n*b.rowLen)
	}
	// A request larger than a batch is split, as TF Serving's enable_large_batch_splitting does.
	var tasks []*task
	for start := 0; start < n; start += b.opts.MaxBatchSize {
		rows := min(b.opts.MaxBatchSize, n-start)
		t := &task{ctx: ctx, x: input[start*b.rowLen : (start+rows)*b.rowLen], rows: rows, done: make(chan taskResult, 1)}
		select {
		case <-b.stop:
			return nil, nil, ErrShuttingDown
		default:
		}
		select {
		case b.in <- t:
		default:
			// Tasks already queued still run; their callers see ctx or get the answer.
			return nil, nil, ErrQueueFull
		}
		tasks = append(tasks, t)
	}
	var out []float32
	var dim []int64
	for _, t := range tasks {
		select {
		case r := <-t.done:
			if r.err != nil {
				return nil, nil, r.err
			}
			out, dim = append(out, r.y...), r.dim
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-b.closed:
			select {
			case r := <-t.done:
				if r.err != nil {
					return nil, nil, r.err
				}
				out, dim = append(out, r.y...), r.dim
			default:
				return nil, nil, ErrShuttingDown
			}
		}
	}
	return out, append([]int64{int64(n)}, dim...), nil
}

// collect forms batches: it waits for a first task, fills the batch until it is full or its
// timeout passes, then keeps filling it while it waits for a free batch thread.
func (b *batcher) collect() {
	defer b.wg.Done()
	defer close(b.ready)
	var carry *task // a task that did not fit in the previous batch
	for {
		cur := &batch{}
		if carry != nil {
			cur.add(carry)
			carry = nil
		} else {
			select {
			case t := <-b.in:
				cur.add(t)
			case <-b.stop:
				b.drain()
				return
			}
		}
		full := func() bool { return cur.rows >= b.opts.MaxBatchSize || carry != nil }
		take := func(t *task) {
			if cur.rows+t.rows > b.opts.MaxBatchSize {
				carry = t
				return
			}
			cur.add(t)
		}
		if b.opts.BatchTimeout > 0 {
			timer := time.NewTimer(b.opts.BatchTimeout)
		fill:
			for !full() {
				select {
				case t := <-b.in:
					take(t)
				case <-timer.C:
					break fill
				}
			}
			timer.Stop()
		} else {
		drain:
			for !full() {
				select {
				case t := <-b.in:
					take(t)
				default:
					break drain
				}
			}
		}
	send:
		for {
			if full() {
				b.ready <- cur
				break
			}
			select {
			case b.ready <- cur:
				break send
			case t := <-b.in:
				take(t)
			}
		}
	}
}

// drain fails the tasks still queued when the batcher stops.
func (b *batcher) drain() {
	for {
		select {
		case t := <-b.in:
			t.done <- taskResult{err: ErrShuttingDown}
		default:
			return
		}
	}
}

func (c *batch) add(t *task) {
	c.tasks = append(c.tasks, t)
	c.rows += t.rows
}

// work runs batches: the live tasks' rows concatenated, one model run, the output split back.
func (b *batcher) work() {
	defer b.wg.Done()
	for c := range b.ready {
		live := c.tasks[:0]
		rows := 0
		for _, t := range c.tasks {
			if err := t.ctx.Err(); err != nil {
				t.done <- taskResult{err: err}
				continue
			}
			live = append(live, t)
			rows += t.rows
		}
		if rows == 0 {
			continue
		}
		x := live[0].x
		if len(live) > 1 {
			x = make([]float32, 0, rows*b.rowLen)
			for _, t := range live {
				x = append(x, t.x...)
			}
		}
		if b.onBatch != nil {
			b.onBatch(rows)
		}
		// The run belongs to every caller in it, so no single caller's context may cancel it.
		y, shape, err := b.model.Predict(context.Background(), x, append([]int64{int64(rows)}, b.inShape...))
		if err == nil && (len(shape) < 1 || shape[0] != int64(rows)) {
			err = fmt.Errorf("model returned shape %v for %d rows", shape, rows)
		}
		if err != nil {
			for _, t := range live {
				t.done <- taskResult{err: err}
			}
			continue
		}
		per := len(y) / rows
		off := 0
		for _, t := range live {
			t.done <- taskResult{y: y[off*per : (off+t.rows)*per : (off+t.rows)*per], dim: shape[1:]}
			off += t.rows
		}
	}
}

// close stops accepting tasks, fails the queued ones and waits for the batches in flight.
func (b *batcher) close() {
	close(b.stop)
	b.wg.Wait()
	close(b.closed)
}
