package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// KVWrite is an administrator's write of one key, with the value as the
// admin API carries it: text as it is, JSON as its text, bytes as base64.
type KVWrite struct {
	AppID, Collection, Key string
	Type                   string // text, json or bytes
	Value                  string
	Metadata               json.RawMessage // nil or null: none
	TTL                    *float64        // seconds from now
	ExpiresAt              *time.Time
	// CheckVersion and IfVersion are a script's ifVersion: with
	// CheckVersion, the write happens only over version IfVersion, or,
	// for a nil IfVersion, only if the key is absent.
	CheckVersion bool
	IfVersion    *int64
}

// CheckKVWrite checks an administrator's write as a script's put is
// checked, with the same limits, and returns the write for the store. Its
// errors wrap model.ErrInvalid and say what is wrong.
func CheckKVWrite(w KVWrite, now time.Time) (model.KVPut, error) {
	if err := CheckCollection(w.Collection); err != nil {
		return model.KVPut{}, err
	}
	value := w.Value
	a := kvArgs{Key: w.Key, Type: w.Type, Value: &value, Metadata: w.Metadata, TTL: w.TTL,
		CheckVersion: w.CheckVersion, IfVersion: w.IfVersion}
	if w.ExpiresAt != nil {
		ms := float64(w.ExpiresAt.UnixMilli())
		a.ExpiresAt = &ms
	}
	p, err := preparePut(w.AppID, w.Collection, a, now)
	return p, adminError(err)
}

// CheckCollection checks a collection's name as the data service does.
func CheckCollection(name string) error {
	return adminError(checkName("a collection name", name, MaxNameBytes))
}

// CheckKey checks a key as the data service does.
func CheckKey(key string) error {
	return adminError(checkName("a key", key, MaxKeyBytes))
}

// EncodeCursor is the cursor that resumes a listing after key; the admin
// API's cursors are the SDK's.
func EncodeCursor(key string) string { return encodeCursor(key) }

// DecodeCursor returns the key a cursor of EncodeCursor resumes after; a
// cursor that is not one is model.ErrInvalid.
func DecodeCursor(cursor string) (string, error) {
	key, ok := decodeCursor(cursor)
	if !ok {
		return "", fmt.Errorf("%w: the cursor is not one that a listing returned", model.ErrInvalid)
	}
	return key, nil
}

// adminError turns the data service's refusal of an argument into
// model.ErrInvalid with the same words.
func adminError(err error) error {
	var de *engine.DataError
	if errors.As(err, &de) {
		return fmt.Errorf("%w: %s", model.ErrInvalid, de.Message)
	}
	return err
}
