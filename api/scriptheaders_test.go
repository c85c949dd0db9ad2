package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/picloud/picloud/engine"
)

func TestScriptRequestHeader(t *testing.T) {
	session := "pcs_" + strings.Repeat("A", 43)
	apiToken := "pca_" + strings.Repeat("b", 42) + "A"
	in := http.Header{
		"Cookie":              {"a=1; picloud_session=" + session + ";b=2", "PICLOUD_SESSION=x", "Picloud_Session ; c=3;;"},
		"Authorization":       {"Bearer " + session},
		"Proxy-Authorization": {"Token  " + apiToken, "Basic YWxpY2U6eA=="},
		"X-Other":             {"kept"},
		"X-Picloud-Trigger":   {"invoke"},
		"X-Picloud-Invoke-Id": {"1"},
		"X-Picloud-Attempt":   {"1"},
	}
	want := engine.Header{
		"Cookie":              {"a=1; b=2", "c=3"},
		"Proxy-Authorization": {"Basic YWxpY2U6eA=="},
		"X-Other":             {"kept"},
	}
	if got := scriptRequestHeader(in, true); !reflect.DeepEqual(got, want) {
		t.Errorf("with the host's cookies:\n got %v\nwant %v", got, want)
	}
	delete(want, "Cookie")
	if got := scriptRequestHeader(in, false); !reflect.DeepEqual(got, want) {
		t.Errorf("without the host's cookies:\n got %v\nwant %v", got, want)
	}
	if in.Get("Authorization") == "" || len(in["Cookie"]) != 3 {
		t.Error("the request's own header was changed")
	}
	for _, v := range []string{"Bearer my-app-jwt", "Bearer pcs_short", "Bearer " + session[:len(session)-1] + "!"} {
		if got := scriptRequestHeader(http.Header{"Authorization": {v}}, true); got["Authorization"] == nil {
			t.Errorf("an app's own Authorization %q was dropped", v)
		}
	}
}

func TestResponseHeaderAllowed(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		own, want   bool
	}{
		{"Set-Cookie", "picloud_session=x; Path=/api/v1/admin", true, false},
		{"Set-Cookie", " PICLOUD_SESSION =x", true, false},
		{"Set-Cookie", "picloud_session", false, false},
		{"Set-Cookie", "picloud_sessions=x", false, true},
		{"Set-Cookie", "theme=dark; Path=/; picloud_session=x", false, true}, // an attribute, not the name
		{"Strict-Transport-Security", "max-age=1", true, true},
		{"Strict-Transport-Security", "max-age=1", false, false},
		{"Clear-Site-Data", `"cookies"`, false, false},
		{"Clear-Site-Data", `"cookies"`, true, true},
		{"Content-Type", "text/html", false, true},
	} {
		if got := responseHeaderAllowed(tc.name, tc.value, tc.own); got != tc.want {
			t.Errorf("%s: %s on its own host %v: allowed %v, want %v", tc.name, tc.value, tc.own, got, tc.want)
		}
	}
}
