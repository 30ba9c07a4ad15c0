package verify

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFormatFloat32MatchesNumpy(t *testing.T) {
	var rows []struct {
		Bits uint32
		Str  string
	}
	readGolden(t, "float32_repr.json", &rows)
	require.Greater(t, len(rows), 4000)
	for _, r := range rows {
		f := math.Float32frombits(r.Bits)
		require.Equal(t, r.Str, FormatFloat32(f), "bits %#08x", r.Bits)
	}
}

func TestNotebookMessages(t *testing.T) {
	// The sentences and values of EXPECTED.md, as the notebook printed them.
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"verify accept", Decision{Identity: "younes", Distance: 0.5992949, Threshold: 0.7, Accepted: true}.Message(), "It's younes, welcome in!"},
		{"verify reject", Decision{Identity: "kian", Distance: 1.0259346, Threshold: 0.7}.Message(), "It's not kian, please go away"},
		{"who is it", Match{Identity: "younes", Distance: 0.5992949, Known: true}.Message(), "it's younes, the distance is 0.5992949"},
		{"who is it zero", Match{Identity: "younes", Distance: 0, Known: true}.Message(), "it's younes, the distance is 0.0"},
		{"who is it unknown", Match{Identity: "kian", Distance: 1.0259346}.Message(), "Not in the database."},
		{"verify func", VerifyMessage("andrew", true), "It's andrew, welcome in!"},
		{"who func", WhoIsItMessage("bertrand", 0.54364836, true), "it's bertrand, the distance is 0.54364836"},
		{"name with percent", VerifyMessage("100%", false), "It's not 100%, please go away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
}
