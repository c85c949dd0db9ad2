package appliance

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCgroupMemoryLimit reads the limits as the kernel writes them, in a
// copy of each hierarchy's layout.
func TestCgroupMemoryLimit(t *testing.T) {
	write := func(root, rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v2 := t.TempDir()
	write(v2, "memory.max", "max\n") // the root group has none in reality
	write(v2, "system.slice/memory.max", "max\n")
	write(v2, "system.slice/picloud.service/memory.max", "536870912\n")
	write(v2, "system.slice/picloud.service/memory.current", "104857600\n")
	write(v2, "system.slice/picloud.service/daemon/memory.max", "max\n")
	v1 := t.TempDir()
	write(v1, "memory/memory.limit_in_bytes", "9223372036854771712\n")
	write(v1, "memory/board/memory.limit_in_bytes", "1073741824\n")
	write(v1, "memory/board/inner/memory.limit_in_bytes", "536870912\n")
	hybrid := t.TempDir()
	write(hybrid, "unified/box/memory.max", "268435456\n")
	for _, c := range []struct {
		name, cgroup, root string
		want               int64
		dir, usage         string
	}{
		{"v2, the limit of a parent", "0::/system.slice/picloud.service/daemon\n", v2, 512 << 20, filepath.Join(v2, "system.slice/picloud.service"), "memory.current"},
		{"v2, no limit", "0::/system.slice\n", v2, 0, "", ""},
		{"v1, the smallest on the path", "12:pids:/x\n4:memory:/board/inner\n0::/\n", v1, 512 << 20, filepath.Join(v1, "memory/board/inner"), "memory.usage_in_bytes"},
		{"v1, unlimited", "4:memory:/\n", v1, 0, "", ""},
		{"hybrid, unified", "4:memory:/\n0::/box\n", hybrid, 256 << 20, filepath.Join(hybrid, "unified/box"), "memory.current"},
		{"no such group", "0::/gone\n", v2, 0, "", ""},
		{"garbage", "nonsense\n::\n", v2, 0, "", ""},
	} {
		got, dir, usage := cgroupMemoryLimit([]byte(c.cgroup), c.root)
		if got != c.want || dir != c.dir || usage != c.usage {
			t.Errorf("%s: %d in %q (%q), want %d in %q (%q)", c.name, got, dir, usage, c.want, c.dir, c.usage)
		}
	}
}

func TestDefaultMemoryLimit(t *testing.T) {
	for _, c := range []struct{ mem, want int64 }{
		{512 << 20, 512 << 20 / 20}, // a Pi Zero 2 W: 25.6 MiB
		{256 << 20, 24 << 20},
		{1 << 30, 1 << 30 / 20},
		{8 << 30, 128 << 20},
		{0, 128 << 20}, // unknown
	} {
		if got := defaultMemoryLimit(c.mem); got != c.want {
			t.Errorf("%d MiB: %d MiB, want %d", c.mem>>20, got>>20, c.want>>20)
		}
	}
}
