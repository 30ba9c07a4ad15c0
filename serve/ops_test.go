package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestQueueFull floods a batcher over the real model that may queue one batch of one image: the
// requests beyond it are refused at once with ErrQueueFull, the others are answered.
func TestQueueFull(t *testing.T) {
	r := sharedServer(t)
	b := newBatcher(r.lib.Model(), []int64{160, 160, 3}, BatchOptions{MaxBatchSize: 1, MaxEnqueuedBatches: 1, NumBatchThreads: 1})
	defer b.close()
	var ok, full atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := b.Predict(context.Background(), make([]float32, 160*160*3), []int64{1, 160, 160, 3})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrQueueFull):
				full.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	require.Positive(t, ok.Load())
	require.Positive(t, full.Load())
	require.Equal(t, int64(429), int64(toAPIError(ErrQueueFull).Status))
}

// TestCheckExposure: writes on an address other clients can reach need a token.
func TestCheckExposure(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		writes bool
		token  string
		bad    bool
	}{
		{"127.0.0.1:8080", true, "", false},
		{"[::1]:8080", true, "", false},
		{"localhost:8080", true, "", false},
		{"0.0.0.0:8080", true, "", true},
		{":8080", true, "", true},
		{"10.1.2.3:8080", true, "", true},
		{"0.0.0.0:8080", true, "t", false},
		{"0.0.0.0:8080", false, "", false},
	} {
		err := CheckExposure(tc.addr, tc.writes, tc.token)
		if tc.bad {
			require.ErrorIs(t, err, ErrExposedWrites, tc.addr)
		} else {
			require.NoError(t, err, tc.addr)
		}
	}
}

// TestSlowHeaders: a client that never finishes its headers is cut after ReadHeaderTimeout, and
// other clients are served meanwhile.
func TestSlowHeaders(t *testing.T) {
	r := sharedServer(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /v1/embed HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	require.NoError(t, err)
	code, _ := call(t, "GET", r.url+"/healthz", "", "", nil)
	require.Equal(t, 200, code)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	start := time.Now()
	_, err = io.ReadAll(conn) // the server closes the connection (after a 408 or nothing)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 9*time.Second)
}

// TestGracefulShutdown: cancelling Serve's context lets an in-flight request finish, then
// refuses new connections and returns nil. The server is also the TLS one (a certificate made
// here), read-only (writes 403) and --exact.
func TestGracefulShutdown(t *testing.T) {
	serverTLS, client := selfSigned(t)
	r := start(t, Config{ReadOnly: true, TLS: serverTLS, Batch: BatchOptions{MaxBatchSize: 1, MaxEnqueuedBatches: 64}}, false)
	require.True(t, strings.HasPrefix(r.url, "https://"))
	code, out := callWith(t, client, "DELETE", r.url+"/v1/identities/x", "", "", nil)
	require.Equal(t, 403, code)
	require.Equal(t, CodeForbidden, errCode(out))
	// Batch 1 (--exact) is the library's batch-1 Encode to the bit.
	camera0 := images(t, "camera_0.jpg")
	code, out = callWith(t, client, "POST", r.url+"/v1/embed", "", "application/json", jsonBody(t, nil, camera0...))
	require.Equal(t, 200, code)
	want, err := r.lib.Encode(context.Background(), camera0...)
	require.NoError(t, err)
	require.Equal(t, want[0], floats(out["results"].([]any)[0].(map[string]any)["embedding"]))

	paths := images(t, "andrew.jpg", "arnaud.jpg", "benoit.jpg", "bertrand.jpg", "camera_0.jpg", "camera_1.jpg",
		"camera_2.jpg", "camera_3.jpg", "camera_4.jpg", "camera_5.jpg", "dan.jpg", "felix.jpg")
	ct, body := multipartBody(t, nil, paths...)
	type answer struct {
		code int
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := client.Post(r.url+"/v1/embed", ct, body)
		if err != nil {
			got <- answer{err: err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- answer{code: resp.StatusCode}
	}()
	// Wait until the request is being served, then stop.
	require.Eventually(t, func() bool { return r.srv.metricsInFlight() > 0 }, 10*time.Second, time.Millisecond)
	r.cancel()
	a := <-got
	require.NoError(t, a.err)
	require.Equal(t, 200, a.code, "the in-flight request must finish")
	require.NoError(t, <-r.done)
	_, err = client.Get(r.url + "/healthz")
	require.Error(t, err, "the server must stop accepting")
	r.lib.Close()
}

// selfSigned makes a certificate for 127.0.0.1 and returns the server's TLS config and a client
// that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *http.Client) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "facenet serve test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return server, client
}
