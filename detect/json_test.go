package detect

import (
	"encoding/json"
	"image"
	"testing"

	"github.com/stretchr/testify/require"
)

// A Face's JSON is mtcnn's detect_faces dict, keys in mtcnn's order, and reads back.
func TestFaceJSON(t *testing.T) {
	f := Face{Box: [4]int{1, 2, 30, 40}, Confidence: 0.5, Keypoints: Keypoints{
		image.Pt(5, 6), image.Pt(7, 8), image.Pt(9, 10), image.Pt(11, 12), image.Pt(13, 14),
	}, Rect: [4]float64{1.2, 2, 31, 42}}
	b, err := json.Marshal(f)
	require.NoError(t, err)
	require.JSONEq(t, `{"box":[1,2,30,40],"confidence":0.5,"keypoints":{"left_eye":[5,6],"right_eye":[7,8],`+
		`"nose":[9,10],"mouth_left":[11,12],"mouth_right":[13,14]}}`, string(b))
	var back Face
	require.NoError(t, json.Unmarshal(b, &back))
	f.Rect = [4]float64{}
	require.Equal(t, f, back)
}
