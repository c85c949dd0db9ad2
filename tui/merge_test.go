package tui

import "testing"

func TestMerge3(t *testing.T) {
	base := "a\nb\nc\nd\ne\n"
	cases := []struct {
		name, mine, theirs, want string
		conflicts                int
	}{
		{"apart", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "A\nb\nc\nd\nE\n", 0},
		{"an insert and a change apart", "a\nb\nnew\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "a\nb\nnew\nc\nd\nE\n", 0},
		{"the same change", "a\nB\nc\nd\ne\n", "a\nB\nc\nd\ne\n", "a\nB\nc\nd\ne\n", 0},
		{"mine unchanged", base, "x\n" + base, "x\n" + base, 0},
		{"theirs unchanged", "a\nb\nc\n", base, "a\nb\nc\n", 0},
		{"no final newline kept", "A\nb\nc\nd\ne", "a\nb\nc\nd\nE\n", "A\nb\nc\nd\nE", 0},
		{"the same line differently", "a\nmine\nc\nd\ne\n", "a\ntheirs\nc\nd\ne\n",
			"a\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> version 3\nc\nd\ne\n", 1},
		{"next to each other", "a\nmine\nc\nd\ne\n", "a\nb\ntheirs\nd\ne\n",
			"a\n<<<<<<< yours\nmine\nc\n=======\nb\ntheirs\n>>>>>>> version 3\nd\ne\n", 1},
		{"inserts at one place", "a\nmine\nb\nc\nd\ne\n", "a\ntheirs\nb\nc\nd\ne\n",
			"a\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> version 3\nb\nc\nd\ne\n", 1},
		{"one conflict, one clean", "a\nmine\nc\nd\nE\n", "a\ntheirs\nc\nd\ne\n",
			"a\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> version 3\nc\nd\nE\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, n := merge3(base, c.mine, c.theirs, "version 3")
			if n != c.conflicts || got != c.want {
				t.Fatalf("merge3 = %q, %d conflicts; want %q, %d", got, n, c.want, c.conflicts)
			}
		})
	}
}
