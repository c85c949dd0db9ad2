package engine

import _ "embed"

// TypeDefinitions is picloud.d.ts: TypeScript declarations of the handler
// contract, the Web APIs and the SDK, for editors. The daemon serves it and
// docs/picloud.d.ts is a copy.
//
//go:embed types/picloud.d.ts
var TypeDefinitions string
