package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is wrapped by errors about a stored password hash that
// cannot be parsed or asks for unsupported parameters.
var ErrMalformedHash = errors.New("malformed password hash")

var b64 = base64.RawStdEncoding.Strict()

// encodePHC formats a hash in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses a hash made by encodePHC. The returned Params carry the
// salt and key lengths found.
func decodePHC(encoded string) (p Params, salt, key []byte, err error) {
	fail := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("decode password hash: "+format+": %w", append(args, ErrMalformedHash)...)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 $-separated fields, got %d", len(parts)-1)
	}
	if parts[1] != "argon2id" {
		return fail("unsupported algorithm %.20q", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version %.20q", parts[2])
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return fail("want parameters m,t,p, got %.40q", parts[3])
	}
	var vals [3]uint32
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || strconv.FormatUint(n, 10) != v {
			return fail("bad parameter %.20q, want %s=<decimal>", kv[i], name)
		}
		vals[i] = uint32(n)
	}
	if vals[2] > maxThreads {
		return fail("argon2 parallelism %d out of range 1..%d", vals[2], maxThreads)
	}
	p = Params{Memory: vals[0], Iterations: vals[1], Parallelism: uint8(vals[2])}
	if err := p.validateCost(); err != nil {
		return fail("%v", err)
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return fail("salt: %v", err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return fail("key: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validateLengths(); err != nil {
		return fail("%v", err)
	}
	return p, salt, key, nil
}
