package engine

import _ "embed"

// TypeDefinitions is picloud.d.ts: TypeScript declarations of the handler
// contract, the Web APIs and the SDK, for editors. The daemon serves it at
// /api/v1/picloud.d.ts, and docs/scripts.md links to the file itself.
//
//go:embed types/picloud.d.ts
var TypeDefinitions string
