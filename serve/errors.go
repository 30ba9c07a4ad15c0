package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/verify"
)

// Error codes of the JSON error body. They are part of the API: clients branch on them, so they
// never change meaning.
const (
	CodeBadRequest    = "bad_request"      // 400: malformed JSON or form, missing field
	CodeBadImage      = "bad_image"        // 400: not an image this service decodes, or damaged
	CodeNoFace        = "no_face"          // 400: the detector found no face
	CodeTooManyFaces  = "too_many_faces"   // 400: more faces than --max-faces
	CodeNoDetector    = "no_detector"      // 400: detection asked of a service started without --detect
	CodeInvalidName   = "invalid_name"     // 400: an identity name that cannot be stored
	CodeBadTensor     = "bad_tensor"       // 400: a :predict input of the wrong shape or type
	CodeUnauthorized  = "unauthorized"     // 401: a write without a bearer token
	CodeForbidden     = "forbidden"        // 403: a wrong token, or writes disabled
	CodeUnknownModel  = "unknown_model"    // 404
	CodeUnknownID     = "unknown_identity" // 404
	CodeNotFound      = "not_found"        // 404: no such route
	CodeMethod        = "method_not_allowed"
	CodeModelMismatch = "model_mismatch" // 409: the store is in another embedding space
	CodeEmptyStore    = "empty_store"    // 409: identify against a store with no identity
	CodeTooLarge      = "too_large"      // 413: body or image over the limits
	CodeQueueFull     = "queue_full"     // 429: the batching queue is full; retry later
	CodeUnavailable   = "unavailable"    // 503: shutting down, or not ready
	CodeTimeout       = "timeout"        // 503: the request's time limit passed
	CodeInternal      = "internal"       // 500
)

// apiError is an error with its HTTP status and stable code; its message is safe to return.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinel errors of the batcher.
var (
	// ErrQueueFull is returned when max_enqueued_batches batches are already waiting.
	ErrQueueFull = errors.New("batching queue is full")
	// ErrShuttingDown is returned for work submitted after the server began to stop.
	ErrShuttingDown = errors.New("server is shutting down")
)

// toAPIError maps the library's errors to statuses and codes; anything unknown is a 500 whose
// message does not leak internals.
func toAPIError(err error) *apiError {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "request body over %d bytes", mbe.Limit)
	case errors.Is(err, ErrQueueFull):
		return errorf(http.StatusTooManyRequests, CodeQueueFull, "%v; retry later", err)
	case errors.Is(err, ErrShuttingDown):
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, CodeTimeout, "request took longer than its time limit")
	case errors.Is(err, context.Canceled):
		return errorf(499, "cancelled", "request cancelled")
	case errors.Is(err, encoding.ErrDecompressionBomb):
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "%v", err)
	case errors.Is(err, facenet.ErrNoFace):
		return errorf(http.StatusBadRequest, CodeNoFace, "%v", err)
	case errors.Is(err, facenet.ErrNoDetector):
		return errorf(http.StatusBadRequest, CodeNoDetector, "%v", err)
	case errors.Is(err, verify.ErrUnknownIdentity):
		return errorf(http.StatusNotFound, CodeUnknownID, "%v", err)
	case errors.Is(err, verify.ErrModelMismatch):
		return errorf(http.StatusConflict, CodeModelMismatch, "%v", err)
	case errors.Is(err, verify.ErrEmptyDatabase):
		return errorf(http.StatusConflict, CodeEmptyStore, "%v", err)
	case errors.Is(err, verify.ErrInvalidName):
		return errorf(http.StatusBadRequest, CodeInvalidName, "%v", err)
	case isImageError(err):
		return errorf(http.StatusBadRequest, CodeBadImage, "%v", err)
	}
	return errorf(http.StatusInternalServerError, CodeInternal, "internal error")
}

// writeError writes err as the JSON error body with its status.
func writeError(w http.ResponseWriter, err error) *apiError {
	ae := toAPIError(err)
	writeJSON(w, ae.Status, ae)
	return ae
}

// writeJSON writes v as the response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// isImageError reports whether err is the decoder refusing the bytes it was given.
func isImageError(err error) bool {
	for _, target := range []error{encoding.ErrUnsupportedFormat, encoding.ErrInvalidImage, encoding.ErrTruncated} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
