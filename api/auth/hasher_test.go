package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// cheap are fast parameters for tests; DefaultParams is exercised once.
var cheap = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t *testing.T, p Params, n int) *Hasher {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate(%+v): %v", p, err)
	}
	return NewHasher(p, MaxConcurrent(n))
}

func TestHashVerifyDefaultParams(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, DefaultParams, DefaultMaxConcurrent)
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoding %q lacks the expected PHC header", enc)
	}
	if ok, err := h.Verify(ctx, "correct horse battery", enc); !ok || err != nil {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, err := h.Verify(ctx, "correct horse batterY", enc); ok || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
}

func TestHashIsSalted(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, cheap, 1)
	a, _ := h.Hash(ctx, "password1")
	b, _ := h.Hash(ctx, "password1")
	if a == b {
		t.Fatal("two hashes of one password are equal")
	}
	if _, err := h.Hash(ctx, "short"); !errors.Is(err, ErrPasswordPolicy) {
		t.Fatalf("Hash(short) = %v, want ErrPasswordPolicy", err)
	}
}

func TestVerifyUsesParamsFromHash(t *testing.T) {
	ctx := context.Background()
	old := newHasher(t, Params{Memory: 32, Iterations: 3, Parallelism: 2, SaltLen: 8, KeyLen: 16}, 1)
	enc, err := old.Hash(ctx, "password1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=32,t=3,p=2$") {
		t.Fatalf("encoding %q", enc)
	}
	cur := newHasher(t, cheap, 1)
	var seen []Params
	cur.derive = func(pw, salt []byte, p Params) []byte {
		seen = append(seen, p)
		return argon2ID(pw, salt, p)
	}
	if ok, err := cur.Verify(ctx, "password1", enc); !ok || err != nil {
		t.Fatalf("Verify with new params = %v, %v", ok, err)
	}
	if want := old.Params(); len(seen) != 1 || seen[0] != want {
		t.Fatalf("derived with %+v, want %+v", seen, want)
	}
	if !cur.NeedsRehash(enc) || old.NeedsRehash(enc) {
		t.Fatal("NeedsRehash wrong")
	}
	if !cur.NeedsRehash("garbage") {
		t.Fatal("NeedsRehash(garbage) = false")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := newHasher(t, cheap, 1)
	good, _ := h.Hash(context.Background(), "password1")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	join := func(f ...string) string { return strings.Join(f, "$") }
	bad := map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu5Jc0nGmOZ6b1p1XJcZl0uX9r8q5fF4i",
		"argon2i":        join("", "argon2i", "v=19", "m=64,t=1,p=1", salt, key),
		"version":        join("", "argon2id", "v=16", "m=64,t=1,p=1", salt, key),
		"no version":     join("", "argon2id", "m=64,t=1,p=1", salt, key),
		"extra field":    good + "$x",
		"no leading $":   strings.TrimPrefix(good, "$"),
		"param order":    join("", "argon2id", "v=19", "t=1,m=64,p=1", salt, key),
		"param missing":  join("", "argon2id", "v=19", "m=64,t=1", salt, key),
		"param extra":    join("", "argon2id", "v=19", "m=64,t=1,p=1,k=2", salt, key),
		"param sign":     join("", "argon2id", "v=19", "m=+64,t=1,p=1", salt, key),
		"param zeros":    join("", "argon2id", "v=19", "m=064,t=1,p=1", salt, key),
		"param overflow": join("", "argon2id", "v=19", "m=99999999999,t=1,p=1", salt, key),
		"memory huge":    join("", "argon2id", "v=19", "m=4194304,t=1,p=1", salt, key),
		"time zero":      join("", "argon2id", "v=19", "m=64,t=0,p=1", salt, key),
		"time huge":      join("", "argon2id", "v=19", "m=64,t=1000,p=1", salt, key),
		"threads zero":   join("", "argon2id", "v=19", "m=64,t=1,p=0", salt, key),
		"threads 256":    join("", "argon2id", "v=19", "m=4096,t=1,p=256", salt, key),
		"salt padded":    join("", "argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key),
		"salt bad b64":   join("", "argon2id", "v=19", "m=64,t=1,p=1", "!!!!"+salt, key),
		"salt short":     join("", "argon2id", "v=19", "m=64,t=1,p=1", "AAAA", key),
		"key empty":      join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, ""),
		"key url b64":    join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, strings.NewReplacer("+", "-", "/", "_").Replace(key)+"-_"),
	}
	for name, enc := range bad {
		ok, err := h.Verify(context.Background(), "password1", enc)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify(%q) = %v, %v; want ErrMalformedHash", name, enc, ok, err)
		}
	}
}

func TestVerifyDummyDoesTheSameWork(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, cheap, 1)
	real, _ := h.Hash(ctx, "password1")
	type call struct {
		p       Params
		saltLen int
	}
	var calls []call
	h.derive = func(pw, salt []byte, p Params) []byte {
		calls = append(calls, call{p, len(salt)})
		return argon2ID(pw, salt, p)
	}
	if ok, err := h.Verify(ctx, "password1", real); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if err := h.VerifyDummy(ctx, "password1"); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}
	if len(calls) != 2 || calls[0] != calls[1] {
		t.Fatalf("argon2 calls %+v: dummy differs from real", calls)
	}
	if ok, _ := h.Verify(ctx, "", h.dummy); ok {
		t.Fatal("the dummy hash verified the empty password")
	}
}

func TestParamsValidate(t *testing.T) {
	for name, c := range map[string]struct {
		p    Params
		want string
	}{
		"zero params":    {Params{}, "parallelism"},
		"no parallelism": {Params{Memory: 64, Iterations: 1, SaltLen: 16, KeyLen: 32}, "parallelism"},
		"little memory":  {Params{Memory: 15, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32}, "memory"},
		"huge memory":    {Params{Memory: 1 << 30, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, "memory"},
		"no iterations":  {Params{Memory: 64, Parallelism: 1, SaltLen: 16, KeyLen: 32}, "iterations"},
		"short salt":     {Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 4, KeyLen: 32}, "salt"},
		"short key":      {Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 8}, "key"},
	} {
		err := c.p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error about %s", name, err, c.want)
			continue
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewHasher did not panic", name)
				}
			}()
			NewHasher(c.p)
		}()
	}
	if err := DefaultParams.Validate(); err != nil {
		t.Fatalf("DefaultParams: %v", err)
	}
	if h := NewHasher(cheap, MaxConcurrent(0)); cap(h.sem) != DefaultMaxConcurrent {
		t.Fatalf("MaxConcurrent(0): %d slots, want the default", cap(h.sem))
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	const limit = 2
	h := newHasher(t, cheap, limit)
	entered, release := make(chan struct{}), make(chan struct{})
	h.derive = func(pw, salt []byte, p Params) []byte {
		entered <- struct{}{}
		<-release
		return argon2ID(pw, salt, p)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < limit; i++ {
		wg.Go(func() {
			if _, err := h.Hash(ctx, "password1"); err != nil {
				t.Error(err)
			}
		})
	}
	for i := 0; i < limit; i++ {
		<-entered
	}
	// Every slot is taken: a further caller waits until its context ends.
	if len(h.sem) != cap(h.sem) {
		t.Fatalf("%d of %d slots taken", len(h.sem), cap(h.sem))
	}
	wctx, cancel := context.WithCancel(ctx)
	errc := make(chan error)
	go func() {
		_, err := h.Verify(wctx, "password1", h.dummy)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting Verify = %v, want context.Canceled", err)
	}
	if err := h.VerifyDummy(wctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("VerifyDummy with cancelled context = %v", err)
	}
	close(release)
	wg.Wait()
	if len(h.sem) != 0 {
		t.Fatalf("%d slots still taken", len(h.sem))
	}
}
