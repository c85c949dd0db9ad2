package auth

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
)

// table is a map of per-key state bounded to max entries, kept in order of
// last use so that the least recently used entries are the first to be
// pruned or evicted. It is not safe for concurrent use: its owner locks.
type table[E any] struct {
	max   int
	byKey map[string]*list.Element // of *row[E]
	order *list.List               // least recently used first
}

type row[E any] struct {
	key string
	val E
}

func newTable[E any](max int) *table[E] {
	return &table[E]{max: max, byKey: map[string]*list.Element{}, order: list.New()}
}

// get returns key's entry, or nil.
func (t *table[E]) get(key string) *E {
	if el := t.byKey[key]; el != nil {
		return &el.Value.(*row[E]).val
	}
	return nil
}

// use returns key's entry, made with fresh() when missing, and marks it
// as the most recently used. When the table is full, the least recently
// used entry that busy does not hold is evicted first (the oldest of all
// when every one is busy).
func (t *table[E]) use(key string, fresh func() E, busy func(*E) bool) *E {
	if el := t.byKey[key]; el != nil {
		t.order.MoveToBack(el)
		return &el.Value.(*row[E]).val
	}
	if len(t.byKey) >= t.max {
		victim := t.order.Front()
		for el := victim; el != nil; el = el.Next() {
			if !busy(&el.Value.(*row[E]).val) {
				victim = el
				break
			}
		}
		t.removeElement(victim)
	}
	el := t.order.PushBack(&row[E]{key: key, val: fresh()})
	t.byKey[key] = el
	return &el.Value.(*row[E]).val
}

// remove forgets key.
func (t *table[E]) remove(key string) {
	if el := t.byKey[key]; el != nil {
		t.removeElement(el)
	}
}

// prune drops the entries that expired says are of no more use, from the
// least recently used, and stops at the first live one. Last use is only
// roughly expiry order, which costs memory within max, never correctness.
func (t *table[E]) prune(expired func(*E) bool) {
	for el := t.order.Front(); el != nil; el = t.order.Front() {
		if !expired(&el.Value.(*row[E]).val) {
			return
		}
		t.removeElement(el)
	}
}

func (t *table[E]) removeElement(el *list.Element) {
	delete(t.byKey, el.Value.(*row[E]).key)
	t.order.Remove(el)
}

func (t *table[E]) len() int { return len(t.byKey) }

// limitKey bounds the memory a key can take: long keys (an attacker's
// made-up account names) are replaced by their hash.
func limitKey(key string) string {
	const maxKeyLen = 64
	if len(key) <= maxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}
