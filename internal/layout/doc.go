// Package layout holds no code: its test reads the imports of every
// package of the module and fails on an edge that DESIGN.md §2 and
// ARCHITECTURE.md forbid.
package layout
