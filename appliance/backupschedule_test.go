package appliance

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRotateBackupsKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	names := []string{
		"picloud-20260101T000000.000Z.pcb", "picloud-20260103T000000.000Z.pcb",
		"picloud-20260102T000000.000Z.pcb", "picloud-20260104T000000.000Z.pcb",
		"mine.pcb", "picloud-notes.txt", // not scheduled backups: kept
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := rotateBackups(dir, 2)
	if err != nil || removed != 2 {
		t.Fatalf("rotate: %d removed, %v", removed, err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"mine.pcb", "picloud-20260103T000000.000Z.pcb", "picloud-20260104T000000.000Z.pcb", "picloud-notes.txt"}
	if !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
	if removed, err := rotateBackups(dir, 2); err != nil || removed != 0 {
		t.Fatalf("a second rotation: %d removed, %v", removed, err)
	}
}
