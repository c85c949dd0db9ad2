package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/model"
)

// ParseEmailConfig reads and checks an email trigger's settings: one
// bare address (orders@shop.example), kept in lower case. Unknown fields
// and anything else than an address are refused, naming the problem.
func ParseEmailConfig(raw json.RawMessage) (model.EmailConfig, error) {
	var in struct {
		Address *string `json:"address"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return model.EmailConfig{}, fmt.Errorf("%w: email trigger: %v", model.ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return model.EmailConfig{}, fmt.Errorf("%w: email trigger: more than one JSON value", model.ErrInvalid)
	}
	if in.Address == nil || *in.Address == "" {
		return model.EmailConfig{}, fmt.Errorf("%w: an email trigger needs an address, such as \"orders@shop.example\"", model.ErrInvalid)
	}
	addr := *in.Address
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" || len(addr) > 254 || strings.ContainsAny(addr, " <>\"\r\n") {
		return model.EmailConfig{}, fmt.Errorf("%w: address %q is not a bare email address such as orders@shop.example", model.ErrInvalid, addr)
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return model.EmailConfig{}, fmt.Errorf("%w: address %q needs a local part and a domain", model.ErrInvalid, addr)
	}
	domain := strings.ToLower(addr[at+1:])
	if _, err := hosts.ParsePattern(domain); err != nil || strings.Contains(domain, "{") {
		return model.EmailConfig{}, fmt.Errorf("%w: address %q: %q is not a domain name", model.ErrInvalid, addr, domain)
	}
	return model.EmailConfig{Address: strings.ToLower(addr)}, nil
}

// checkEmailAddress checks that the app appID holds the domain of an
// email trigger's address (one of its claimed domains matches it) and
// that no trigger claims the address yet.
func (s *Service) checkEmailAddress(ctx context.Context, appID string, c model.EmailConfig) error {
	domain := c.Address[strings.LastIndexByte(c.Address, '@')+1:]
	ds, err := s.store.ListDomains(ctx, appID)
	if err != nil {
		return err
	}
	var claims []hosts.Claim
	for _, d := range ds {
		if p, err := hosts.ParsePattern(d.Pattern); err == nil {
			claims = append(claims, hosts.Claim{ID: d.ID, AppID: d.AppID, Pattern: p})
		}
	}
	t, err := hosts.NewTable(claims)
	if err != nil {
		return fmt.Errorf("compile the app's domains: %w", err)
	}
	if _, _, ok := t.Resolve(hosts.Canonical(domain)); !ok {
		return fmt.Errorf("%w: address %s: the app does not hold the domain %s; claim it first (POST /api/v1/admin/apps/%s/domains)",
			model.ErrInvalid, c.Address, domain, appID)
	}
	if s.cfg.EmailAddresses != nil {
		if other, taken, err := s.cfg.EmailAddresses.EmailTrigger(ctx, c.Address); err != nil {
			return err
		} else if taken {
			return addressTaken(c.Address, other)
		}
	}
	return nil
}

// addressTaken is the conflict of an address another trigger claims.
func addressTaken(addr string, other model.Trigger) error {
	return fmt.Errorf("%w: address %s is already claimed by trigger %s of script %s", model.ErrConflict, addr, other.ID, other.ScriptID)
}

// EmailAddresses finds the trigger that claims an address.
type EmailAddresses interface {
	EmailTrigger(ctx context.Context, address string) (model.Trigger, bool, error)
}
