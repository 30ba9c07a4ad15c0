package procstat

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseKiB(t *testing.T) {
	status := "Name:\tx\nVmPeak:\t 1000 kB\nVmHWM:\t  750584 kB\nVmRSS:\t  700000 kB\nThreads:\t9\n"
	tests := []struct {
		field   string
		want    int64
		wantErr string
	}{
		{field: "VmHWM", want: 750584},
		{field: "VmRSS", want: 700000},
		{field: "Threads", wantErr: "not in kB"},
		{field: "VmSwap", wantErr: "no VmSwap line"},
	}
	for _, tc := range tests {
		got, err := ParseKiB(strings.NewReader(status), tc.field)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}

func TestSelfKiB(t *testing.T) {
	rss, err := SelfKiB("VmRSS")
	require.NoError(t, err)
	hwm, err := SelfKiB("VmHWM")
	require.NoError(t, err)
	require.Greater(t, rss, int64(0))
	require.GreaterOrEqual(t, hwm, rss)
}
