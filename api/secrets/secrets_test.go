package secrets

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	box, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	const app, other = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
	sealed, err := box.Seal(app, "API_KEY", "hunter2-hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("the sealed value contains the plain one")
	}
	if got, err := box.Open(app, "API_KEY", sealed); err != nil || got != "hunter2-hunter2" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := box.Seal(app, "API_KEY", "hunter2-hunter2")
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one value are equal: the nonce does not change")
	}
	if v, _ := box.Seal(app, "EMPTY", ""); v == nil {
		t.Fatal("empty value")
	} else if got, err := box.Open(app, "EMPTY", v); err != nil || got != "" {
		t.Fatalf("empty value: %q %v", got, err)
	}

	otherKey, _ := NewKey()
	otherBox, _ := New(otherKey)
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, open := range map[string]func() (string, error){
		"another app":  func() (string, error) { return box.Open(other, "API_KEY", sealed) },
		"another name": func() (string, error) { return box.Open(app, "API_KEY2", sealed) },
		"another key":  func() (string, error) { return otherBox.Open(app, "API_KEY", sealed) },
		"changed byte": func() (string, error) { return box.Open(app, "API_KEY", flipped) },
		"too short":    func() (string, error) { return box.Open(app, "API_KEY", sealed[:10]) },
		"bad format":   func() (string, error) { return box.Open(app, "API_KEY", append([]byte{9}, sealed[1:]...)) },
	} {
		if got, err := open(); !errors.Is(err, ErrOpen) || got != "" {
			t.Errorf("%s: %q, %v; want ErrOpen", name, got, err)
		}
	}
	if _, err := New(key[:16]); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}
