package appliance

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWritePrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "secret")
	if err := writePrivateFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writePrivateFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	dst, _ := os.Stat(dir)
	if string(got) != "two" || st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Fatalf("content %q, file mode %v, directory mode %v; want two, 0600, 0700", got, st.Mode().Perm(), dst.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestCreatePrivateFileKeepsAnExistingOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := createPrivateFile(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := createPrivateFile(path, []byte("second")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second create: %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Fatalf("content %q, want the first", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}
