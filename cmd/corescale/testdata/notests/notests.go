// Package notests has no test files: corescale bench refuses it.
package notests
