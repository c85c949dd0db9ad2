package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		pw   string
		ok   bool
		want string
	}{
		{"", false, "at least 8"},
		{"1234567", false, "has 7 characters"},
		{"12345678", true, ""},
		{"ééééééé", false, "has 7 characters"}, // 14 bytes, 7 characters
		{"éééééééé", true, ""},
		{strings.Repeat("a", MaxPasswordLen), true, ""},
		{strings.Repeat("a", MaxPasswordLen+1), false, "at most 1024"},
	}
	for _, tt := range tests {
		err := ValidatePassword(tt.pw)
		if tt.ok {
			if err != nil {
				t.Errorf("ValidatePassword(%.20q) = %v", tt.pw, err)
			}
			continue
		}
		if !errors.Is(err, ErrPasswordPolicy) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidatePassword(%.20q) = %v, want ErrPasswordPolicy mentioning %q", tt.pw, err, tt.want)
		}
	}
}
