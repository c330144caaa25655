package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	sdk "github.com/coffer-secrets/coffer/client"
)

// valueFlags say where a secret value comes from.
type valueFlags struct {
	value, file string
	stdin       bool
	binary      bool
}

func (f *valueFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.file, "value-file", "", `read the value from this file ("-" for standard input)`)
	fs.BoolVar(&f.stdin, "value-stdin", false, "read the value from standard input")
	fs.StringVar(&f.value, "value", "", "the value itself (visible in shell history and ps: prefer --value-file or --value-stdin)")
	fs.BoolVar(&f.binary, "binary", false, "store the value as binary (SecretBinary); with --value, the value is base64")
}

// given reports whether a value source was named.
func (f *valueFlags) given(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("value") || f.file != "" || f.stdin
}

// read returns the value from the one source named. Text must be UTF-8;
// the bytes are taken exactly, trailing newline included.
func (f *valueFlags) read(cmd *cobra.Command) (sdk.Value, error) {
	n := 0
	for _, set := range []bool{cmd.Flags().Changed("value"), f.file != "", f.stdin} {
		if set {
			n++
		}
	}
	if n != 1 {
		return sdk.Value{}, usageErr(errors.New("give the value with exactly one of --value-file, --value-stdin or --value"))
	}
	b, err := f.bytes(cmd)
	if err != nil {
		return sdk.Value{}, err
	}
	if len(b) == 0 {
		return sdk.Value{}, usageErr(errors.New("the value is empty"))
	}
	if f.binary {
		return sdk.Binary(b), nil
	}
	if !sdk.ValidText(b) {
		return sdk.Value{}, usageErr(errors.New("the value is not UTF-8 text; add --binary to store bytes"))
	}
	return sdk.Text(string(b)), nil
}

func (f *valueFlags) bytes(cmd *cobra.Command) ([]byte, error) {
	switch {
	case cmd.Flags().Changed("value") && f.binary:
		b, err := base64.StdEncoding.DecodeString(f.value)
		if err != nil {
			return nil, usageErr(errors.New("with --binary, --value is base64"))
		}
		return b, nil
	case cmd.Flags().Changed("value"):
		return []byte(f.value), nil
	case f.stdin || f.file == "-":
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, failed(fmt.Errorf("read standard input: %w", err))
		}
		return b, nil
	}
	b, err := os.ReadFile(f.file)
	if err != nil {
		return nil, failed(fmt.Errorf("value file: %w", err))
	}
	return b, nil
}

// printer writes a command's result as a table or as JSON.
type printer struct {
	w      io.Writer
	output string
}

func newPrinter(cmd *cobra.Command, s *settings) *printer {
	return &printer{w: cmd.OutOrStdout(), output: s.output}
}

// print writes v as indented JSON, or calls table with a tab writer.
func (p *printer) print(v any, table func(w io.Writer)) error {
	if p.output == "json" {
		enc := json.NewEncoder(p.w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(p.w, 2, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// timeString formats t for output: RFC 3339 in UTC, "" for the zero time.
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// secretJSON is a secret's metadata as JSON output, in Tencent's names.
type secretJSON struct {
	SecretName        string
	Description       string
	Status            string
	SecretType        int
	KmsKeyId          string
	CreateUin         string
	CreateTime        string
	DeleteTime        string `json:",omitempty"`
	ProductName       string `json:",omitempty"`
	ResourceID        string `json:",omitempty"`
	RotationStatus    bool
	RotationFrequency int    `json:",omitempty"`
	NextRotationTime  string `json:",omitempty"`
	AdditionalConfig  string `json:",omitempty"`
}

func toSecretJSON(s sdk.Secret) secretJSON {
	return secretJSON{
		SecretName: s.Name, Description: s.Description, Status: string(s.Status), SecretType: int(s.Type),
		KmsKeyId: s.KmsKeyID, CreateUin: s.CreateUin, CreateTime: timeString(s.CreateTime),
		DeleteTime: timeString(s.DeleteTime), ProductName: s.ProductName, ResourceID: s.ResourceID,
		RotationStatus: s.RotationEnabled, RotationFrequency: s.RotationFrequency,
		NextRotationTime: timeString(s.NextRotationTime), AdditionalConfig: s.AdditionalConfig,
	}
}

// valueJSON is a secret value as JSON output: SecretBinary is base64.
type valueJSON struct {
	SecretName   string
	VersionId    string
	SecretString *string `json:",omitempty"`
	SecretBinary *string `json:",omitempty"`
}

func toValueJSON(v *sdk.SecretValue) valueJSON {
	out := valueJSON{SecretName: v.Name, VersionId: v.VersionID}
	if v.Value.IsBinary() {
		s := base64.StdEncoding.EncodeToString(v.Value.Bytes())
		out.SecretBinary = &s
	} else {
		s := v.Value.Text()
		out.SecretString = &s
	}
	return out
}

// refJSON is the answer of a write.
type refJSON struct {
	SecretName string
	VersionId  string `json:",omitempty"`
}
