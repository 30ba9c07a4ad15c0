package serve

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/detect"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/verify"
)

// faceRequest is a Face API request. As JSON:
//
//	{"model": "facenet", "identity": "younes", "k": 3,
//	 "images": [{"name": "camera_0.jpg", "b64": "<base64>"}]}
//
// or, as multipart/form-data, the same fields as form fields and each image as a file part (named
// "image"). name is only a label echoed in the response.
type faceRequest struct {
	Model    string      `json:"model"`
	Identity string      `json:"identity"` // verify's claimed identity, enroll's name
	K        int         `json:"k"`        // identify: also list the k nearest identities
	Images   []jsonImage `json:"images"`
	Image    string      `json:"image"` // shorthand for one base64 image
}

type jsonImage struct {
	Name string `json:"name"`
	B64  string `json:"b64"`
}

// upload is one image of a request.
type upload struct {
	name string
	data []byte
}

// parseFaceRequest reads the body, which MaxBytesReader bounds, as JSON or multipart.
func (s *Server) parseFaceRequest(r *http.Request) (*faceRequest, []upload, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	req := &faceRequest{}
	var ups []upload
	switch ct {
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, nil, errorf(http.StatusBadRequest, CodeBadRequest, "multipart body without a boundary")
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, nil, errorf(http.StatusBadRequest, CodeBadRequest, "multipart: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, nil, badBody("multipart", err)
			}
			// Parts are read into memory, never spooled to files: the body limit bounds them.
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, nil, badBody("multipart", err)
			}
			switch name := part.FormName(); {
			case name == "image" || part.FileName() != "":
				label := part.FileName()
				if label == "" {
					label = fmt.Sprintf("image%d", len(ups))
				}
				ups = append(ups, upload{name: label, data: data})
			case name == "model":
				req.Model = string(data)
			case name == "identity" || name == "name":
				req.Identity = string(data)
			case name == "k":
				if req.K, err = strconv.Atoi(string(data)); err != nil {
					return nil, nil, errorf(http.StatusBadRequest, CodeBadRequest, "k %q: not an integer", data)
				}
			default:
				return nil, nil, errorf(http.StatusBadRequest, CodeBadRequest, "unknown form field %q", name)
			}
			if len(ups) > s.lim.MaxImages {
				return nil, nil, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "more than %d images", s.lim.MaxImages)
			}
		}
	case "application/json", "":
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(req); err != nil {
			return nil, nil, badBody("JSON", err)
		}
		if req.Image != "" {
			req.Images = append(req.Images, jsonImage{B64: req.Image})
		}
		if len(req.Images) > s.lim.MaxImages {
			return nil, nil, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "more than %d images", s.lim.MaxImages)
		}
		for i, im := range req.Images {
			data, err := base64.StdEncoding.DecodeString(im.B64)
			if err != nil {
				return nil, nil, errorf(http.StatusBadRequest, CodeBadImage, "image %d: b64 is not base64: %v", i, err)
			}
			name := im.Name
			if name == "" {
				name = fmt.Sprintf("image%d", i)
			}
			ups = append(ups, upload{name: name, data: data})
		}
	default:
		return nil, nil, errorf(http.StatusUnsupportedMediaType, CodeBadRequest, "content type %q: send application/json or multipart/form-data", ct)
	}
	if len(ups) == 0 {
		return nil, nil, errorf(http.StatusBadRequest, CodeBadRequest, "no image in the request")
	}
	return req, ups, nil
}

// badBody is the error of a body that could not be read: too large, or malformed.
func badBody(what string, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, "%s body: %v", what, err)
}

// imageError labels a decoding error with the image's name.
func imageError(u upload, err error) error {
	return fmt.Errorf("image %q: %w", u.name, err)
}

// faces detects and crops the faces of one uploaded photo.
func (s *Server) faces(ctx context.Context, m *model, u upload) (*encoding.Image, []facenet.Face, error) {
	img, err := encoding.Decode(u.data, encoding.DecodeOptions{MaxPixels: s.lim.MaxPixels, JPEGDecoder: m.load.JPEGDecoder})
	if err != nil {
		return nil, nil, imageError(u, err)
	}
	faces, err := m.p.Faces(ctx, img)
	if err != nil {
		return nil, nil, imageError(u, err)
	}
	if len(faces) > s.lim.MaxFaces {
		return nil, nil, errorf(http.StatusBadRequest, CodeTooManyFaces, "image %q: %d faces, the limit is %d", u.name, len(faces), s.lim.MaxFaces)
	}
	return img, faces, nil
}

// wholeImages embeds each upload as the notebook's img_to_encoding does a file: load_img's decode
// and resize (Load is LoadImg for bytes), the pixel rule, the model (through the batcher).
func (s *Server) wholeImages(ctx context.Context, m *model, ups []upload) ([][]float32, error) {
	imgs := make([]*encoding.Image, len(ups))
	for i, u := range ups {
		img, err := encoding.Load(u.data, m.load)
		if err != nil {
			return nil, imageError(u, err)
		}
		imgs[i] = img
	}
	return m.enc.EncodeImages(ctx, imgs)
}

// probes embeds what enroll and verify use of each upload: the largest face with a detector (as
// EncodeFiles), else the whole image.
func (s *Server) probes(ctx context.Context, m *model, ups []upload) ([][]float32, error) {
	if !m.p.HasDetector() {
		return s.wholeImages(ctx, m, ups)
	}
	crops := make([]*encoding.Image, len(ups))
	for i, u := range ups {
		img, faces, err := s.faces(ctx, m, u)
		if err != nil {
			return nil, err
		}
		found := make([]detect.Face, len(faces))
		for j, f := range faces {
			found[j] = f.Face
		}
		crops[i] = faces[facenet.LargestFace(found, img.Width, img.Height)].Crop
	}
	return m.enc.EncodeImages(ctx, crops)
}

// everyFace embeds every face of every upload (as EncodeEveryFace), or each whole image without a
// detector (then the Face part of each result is empty).
func (s *Server) everyFace(ctx context.Context, m *model, ups []upload) ([]facenet.FaceEmbedding, error) {
	if !m.p.HasDetector() {
		embs, err := s.wholeImages(ctx, m, ups)
		if err != nil {
			return nil, err
		}
		out := make([]facenet.FaceEmbedding, len(ups))
		for i := range ups {
			out[i] = facenet.FaceEmbedding{Path: ups[i].name, Embedding: embs[i]}
		}
		return out, nil
	}
	var out []facenet.FaceEmbedding
	var crops []*encoding.Image
	for _, u := range ups {
		_, faces, err := s.faces(ctx, m, u)
		if err != nil {
			return nil, err
		}
		for _, f := range faces {
			out = append(out, facenet.FaceEmbedding{Path: u.name, Face: f.Face})
			crops = append(crops, f.Crop)
		}
	}
	embs, err := m.enc.EncodeImages(ctx, crops)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Embedding = embs[i]
	}
	return out, nil
}

// wholeEmbedding is the CLI's `embed --json` record.
type wholeEmbedding struct {
	Image     string    `json:"image"`
	Embedding []float32 `json:"embedding"`
}

// begin parses the request and finds its model; every Face API handler starts with it.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (*faceRequest, []upload, *model, bool) {
	req, ups, err := s.parseFaceRequest(r)
	if err != nil {
		writeError(w, err)
		return nil, nil, nil, false
	}
	m, err := s.model(req.Model)
	if err != nil {
		writeError(w, err)
		return nil, nil, nil, false
	}
	return req, ups, m, true
}

// handleEmbed is POST /v1/embed: the CLI's `embed --json` records, one per image, or one per face
// (facenet.FaceEmbedding) with a detector.
func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	_, ups, m, ok := s.begin(w, r)
	if !ok {
		return
	}
	res, err := s.everyFace(r.Context(), m, ups)
	if err != nil {
		writeError(w, err)
		return
	}
	if m.p.HasDetector() {
		writeJSON(w, http.StatusOK, map[string]any{"model": m.name, "results": res})
		return
	}
	out := make([]wholeEmbedding, len(res))
	for i, e := range res {
		out[i] = wholeEmbedding{Image: e.Path, Embedding: e.Embedding}
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": m.name, "results": out})
}

// detectResult is the CLI's `detect --json` record: the image and its faces (detect.Face).
type detectResult struct {
	Image string        `json:"image"`
	Faces []detect.Face `json:"faces"`
}

// handleDetect is POST /v1/detect: every face of each image, mtcnn's detect_faces records.
func (s *Server) handleDetect(w http.ResponseWriter, r *http.Request) {
	_, ups, m, ok := s.begin(w, r)
	if !ok {
		return
	}
	if !m.p.HasDetector() {
		writeError(w, facenet.ErrNoDetector)
		return
	}
	out := make([]detectResult, len(ups))
	for i, u := range ups {
		img, err := encoding.Decode(u.data, encoding.DecodeOptions{MaxPixels: s.lim.MaxPixels, JPEGDecoder: m.load.JPEGDecoder})
		if err != nil {
			writeError(w, imageError(u, err))
			return
		}
		faces, err := m.p.Detect(r.Context(), img)
		if err != nil {
			writeError(w, imageError(u, err))
			return
		}
		if faces == nil {
			faces = []detect.Face{}
		}
		out[i] = detectResult{Image: u.name, Faces: faces}
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": m.name, "results": out})
}

// verifyResult is the CLI's `verify --json` object.
type verifyResult struct {
	Image     string  `json:"image"`
	Identity  string  `json:"identity"`
	Distance  float32 `json:"distance"`
	Threshold float64 `json:"threshold"`
	Accepted  bool    `json:"accepted"`
	Message   string  `json:"message"`
}

// handleVerify is POST /v1/verify: one image against the claimed identity, the notebook's verify.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	req, ups, m, ok := s.begin(w, r)
	if !ok {
		return
	}
	if req.Identity == "" {
		writeError(w, errorf(http.StatusBadRequest, CodeBadRequest, "verify needs an identity"))
		return
	}
	if len(ups) != 1 {
		writeError(w, errorf(http.StatusBadRequest, CodeBadRequest, "verify takes one image, got %d", len(ups)))
		return
	}
	db, _, err := s.snapshot(r.Context(), m)
	if err != nil {
		writeError(w, err)
		return
	}
	if !db.Has(req.Identity) {
		writeError(w, fmt.Errorf("%w: %q", verify.ErrUnknownIdentity, req.Identity))
		return
	}
	embs, err := s.probes(r.Context(), m, ups)
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := verify.Verify(embs[0], req.Identity, db, m.p.Threshold())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, verifyResult{
		Image: ups[0].name, Identity: d.Identity, Distance: d.Distance, Threshold: d.Threshold,
		Accepted: d.Accepted, Message: d.Message(),
	})
}

// identifyResult is the CLI's `identify --json` record, with the face when a detector found it.
type identifyResult struct {
	Image string `json:"image"`
	*detect.Face
	Identity         string            `json:"identity"`
	Known            bool              `json:"known"`
	Distance         float32           `json:"distance"`
	Threshold        float64           `json:"threshold"`
	RunnerUp         string            `json:"runner_up"`
	RunnerUpDistance float32           `json:"runner_up_distance"`
	Margin           float64           `json:"margin"`
	Message          string            `json:"message"`
	Top              []verify.Neighbor `json:"top,omitempty"`
}

// handleIdentify is POST /v1/identify: who_is_it for every face (every image without a detector),
// and the k nearest identities when k > 0.
func (s *Server) handleIdentify(w http.ResponseWriter, r *http.Request) {
	req, ups, m, ok := s.begin(w, r)
	if !ok {
		return
	}
	if req.K < 0 || req.K > s.lim.MaxTopK {
		writeError(w, errorf(http.StatusBadRequest, CodeBadRequest, "k %d: must be 0..%d", req.K, s.lim.MaxTopK))
		return
	}
	_, search, err := s.snapshot(r.Context(), m)
	if err != nil {
		writeError(w, err)
		return
	}
	faces, err := s.everyFace(r.Context(), m, ups)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]identifyResult, len(faces))
	for i, f := range faces {
		match, err := search.WhoIsIt(f.Embedding, m.p.Threshold())
		if err != nil {
			writeError(w, err)
			return
		}
		res := identifyResult{
			Image: f.Path, Identity: match.Identity, Known: match.Known, Distance: match.Distance,
			Threshold: match.Threshold, RunnerUp: match.RunnerUp, RunnerUpDistance: match.RunnerUpDistance,
			Margin: match.Margin, Message: match.Message(),
		}
		if m.p.HasDetector() {
			res.Face = &faces[i].Face
		}
		if req.K > 0 {
			if res.Top, err = search.TopK(f.Embedding, req.K); err != nil {
				writeError(w, err)
				return
			}
		}
		out[i] = res
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": m.name, "results": out})
}

// handleEnroll is POST /v1/enroll (a write): the images' embeddings (largest face each, with a
// detector) added to the identity, saved before the answer.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	req, ups, m, ok := s.begin(w, r)
	if !ok {
		return
	}
	if err := verify.ValidName(req.Identity); err != nil {
		writeError(w, fmt.Errorf("identity %q: %w", req.Identity, err))
		return
	}
	if _, _, err := s.snapshot(r.Context(), m); err != nil {
		writeError(w, err)
		return
	}
	embs, err := s.probes(r.Context(), m, ups)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.store.Enrol(r.Context(), req.Identity, embs...); err != nil {
		writeError(w, err)
		return
	}
	samples := 0
	if db, err := s.store.Current(r.Context()); err == nil {
		if ss, err := db.Samples(req.Identity); err == nil {
			samples = len(ss)
		}
	}
	s.log.Info("enrolled", "id", requestID(r.Context()), "identity", req.Identity, "added", len(embs))
	writeJSON(w, http.StatusCreated, map[string]any{"identity": req.Identity, "added": len(embs), "samples": samples})
}

// handleRemove is DELETE /v1/identities/{name} (a write).
func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if s.store == nil {
		writeError(w, errorf(http.StatusNotFound, CodeUnknownID, "this server has no identity store (--db)"))
		return
	}
	if err := s.store.Remove(r.Context(), name); err != nil {
		writeError(w, err)
		return
	}
	s.log.Info("removed", "id", requestID(r.Context()), "identity", name)
	writeJSON(w, http.StatusOK, map[string]any{"identity": name, "removed": true})
}

// identityInfo is one entry of GET /v1/identities.
type identityInfo struct {
	Name    string `json:"name"`
	Samples int    `json:"samples"`
}

// handleList is GET /v1/identities: every identity in enrolment order and its sample count.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	if s.store == nil {
		writeError(w, errorf(http.StatusNotFound, CodeUnknownID, "this server has no identity store (--db)"))
		return
	}
	db, err := s.store.Current(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	names := db.Names()
	out := make([]identityInfo, len(names))
	for i, n := range names {
		ss, _ := db.Samples(n)
		out[i] = identityInfo{Name: n, Samples: len(ss)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": out})
}
