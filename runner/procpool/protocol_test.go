package procpool

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestMessagesSurviveARoundTrip(t *testing.T) {
	tests := []message{
		{kind: kindFail, seq: 1<<63 - 1, chunk: -1},
		{kind: kindReady, pid: 4242},
		{kind: kindReady, pid: 77},
		{kind: kindFail, seq: 3, chunk: -1, text: "resolving task: nope"},
		{kind: kindFail, seq: 3, chunk: 12, text: ""},
	}
	var stream []byte
	for _, m := range tests {
		stream = appendFrame(stream, m)
	}
	r := bytes.NewReader(stream)
	for _, want := range tests {
		got, err := readMessage(r)
		if err != nil || got != want {
			t.Fatalf("readMessage = %+v, %v; want %+v", got, err, want)
		}
	}
	if _, err := readMessage(r); err != io.EOF {
		t.Errorf("at the end of the stream: %v, want io.EOF", err)
	}
}

func TestLongFailTextsAreCutToFit(t *testing.T) {
	frame := appendFrame(nil, message{kind: kindFail, seq: 1, chunk: 2, text: strings.Repeat("x", 2*maxFrame)})
	m, err := readMessage(bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) != 4+maxFrame || len(m.text) != maxFrame-17 {
		t.Errorf("frame of %d bytes, text of %d", len(frame), len(m.text))
	}
}

func TestMalformedFramesAreErrors(t *testing.T) {
	good := appendFrame(nil, message{kind: kindReady, pid: 5})
	tests := map[string][]byte{
		"truncated length":  good[:2],
		"truncated body":    good[:len(good)-1],
		"zero length":       {0, 0, 0, 0},
		"huge length":       {0xff, 0xff, 0xff, 0x7f, 'd'},
		"unknown kind":      {1, 0, 0, 0, 'z'},
		"retired done":      {9, 0, 0, 0, 'd', 1, 0, 0, 0, 0, 0, 0, 0},
		"retired wake":      {9, 0, 0, 0, 'w', 1, 0, 0, 0, 0, 0, 0, 0},
		"short payload":     {5, 0, 0, 0, 'r', 1, 2, 3, 4},
		"long payload":      append([]byte{10, 0, 0, 0, 'r'}, make([]byte, 9)...),
		"short fail":        {9, 0, 0, 0, 'f', 1, 0, 0, 0, 0, 0, 0, 0},
		"negative pid":      {9, 0, 0, 0, 'r', 0, 0, 0, 0, 0, 0, 0, 0x80},
		"negative sequence": append([]byte{17, 0, 0, 0, 'f', 0, 0, 0, 0, 0, 0, 0, 0x80}, make([]byte, 8)...),
		"chunk below -1":    append([]byte{17, 0, 0, 0, 'f', 1, 0, 0, 0, 0, 0, 0, 0}, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	}
	for name, frame := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := readMessage(bytes.NewReader(frame))
			if err == nil || err == io.EOF {
				t.Fatalf("readMessage(%x) = %+v, %v; want a malformed-frame error", frame, m, err)
			}
			if !errors.Is(err, errFrame) {
				t.Errorf("error %v is not errFrame", err)
			}
		})
	}
}

func FuzzReadMessage(f *testing.F) {
	for _, m := range []message{
		{kind: kindReady, pid: 99},
		{kind: kindFail, seq: 3, chunk: 4, text: "panic: boom"},
	} {
		f.Add(appendFrame(nil, m))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		for {
			m, err := readMessage(r)
			if err != nil {
				if err != io.EOF && !errors.Is(err, errFrame) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			// Whatever decodes must encode to a frame that decodes the same.
			again, err := readMessage(bytes.NewReader(appendFrame(nil, m)))
			if err != nil || again != m {
				t.Fatalf("%+v re-encoded decodes as %+v, %v", m, again, err)
			}
		}
	})
}
