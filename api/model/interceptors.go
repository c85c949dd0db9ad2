package model

import "time"

// Interceptor binds a script in front of a route pattern of its app: its
// intercept handler runs before the script of every route whose requests
// the pattern matches, in Order (then by creation).
type Interceptor struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	ScriptID  string    `json:"script_id"`
	Path      string    `json:"path"`
	Order     int       `json:"order"`
	CreatedAt time.Time `json:"created_at"`
}
