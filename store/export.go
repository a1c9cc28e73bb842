package store

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// dumpFormat names the export file format in its "format" field, so that
// ImportJSON can tell an export from any other JSON file.
const dumpFormat = "goalsearch-study"

// dumpRec is an export file: the study's records as the store keeps them
// (but for trials' wall time, in seconds rather than the stored exact
// nanoseconds; files written before that, with "wall_time_ns", still
// import), plus the checkpoints (base64), so that an export moved to
// another machine resumes where it stopped.
type dumpRec struct {
	Format        string       `json:"format"`
	V             int          `json:"v"`
	Study         studyRec     `json:"study"`
	Trials        []trialRec   `json:"trials"`
	SamplerStates []samplerRec `json:"sampler_states"`
	Checkpoints   []ckptRec    `json:"checkpoints"`
}

type ckptRec struct {
	Trial int    `json:"trial"`
	Epoch int    `json:"epoch"`
	Data  []byte `json:"data"`
}

// WriteJSON writes d as an indented JSON export file. Floats are written
// exactly (NaN and infinities as strings), so ReadJSON returns a Dump equal
// to d as the store returned it. It does not retain d or w.
func WriteJSON(w io.Writer, d Dump) error {
	rec := dumpRec{
		Format:        dumpFormat,
		V:             SchemaVersion,
		Study:         studyToRec(d.Study),
		Trials:        []trialRec{},
		SamplerStates: []samplerRec{},
		Checkpoints:   []ckptRec{},
	}
	for _, t := range d.Trials {
		rec.Trials = append(rec.Trials, trialToExport(t))
	}
	for _, s := range d.SamplerStates {
		rec.SamplerStates = append(rec.SamplerStates, samplerToRec(s))
	}
	for _, c := range d.Checkpoints {
		rec.Checkpoints = append(rec.Checkpoints, ckptRec(c))
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("store: writing export of %q: %w", d.Study.Name, err)
	}
	return bw.Flush()
}

// ReadJSON reads an export file written by WriteJSON. Every record is
// checked as the store checks its own (ErrCorrupt); a file from a newer
// goalsearch is ErrNewerSchema. Whether the records agree with each other
// is checked by Store.Import. It reads r to the end and does not retain it.
func ReadJSON(r io.Reader) (Dump, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Dump{}, fmt.Errorf("store: reading export: %w", err)
	}
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(b, &head); err != nil || head.Format != dumpFormat {
		return Dump{}, fmt.Errorf("%w: not a goalsearch study export (no \"format\": %q)", ErrCorrupt, dumpFormat)
	}
	var rec dumpRec
	if err := unmarshal(b, &rec, "export"); err != nil {
		return Dump{}, err
	}
	var d Dump
	if d.Study, err = studyChecked(rec.Study); err != nil {
		return Dump{}, err
	}
	for _, tr := range rec.Trials {
		t, err := trialChecked(tr)
		if err != nil {
			return Dump{}, err
		}
		t.Study = d.Study.Name
		d.Trials = append(d.Trials, t)
	}
	for _, sr := range rec.SamplerStates {
		s, err := samplerChecked(sr)
		if err != nil {
			return Dump{}, err
		}
		d.SamplerStates = append(d.SamplerStates, s)
	}
	for _, c := range rec.Checkpoints {
		d.Checkpoints = append(d.Checkpoints, Checkpoint(c))
	}
	return d, nil
}

// WriteCSV writes one row per trial, in number order, for spreadsheets and
// pandas: number, state, generation, seed, value, one column per goal
// coordinate named by its search-space label, one column per
// hyperparameter named by its key path (a categorical one's choice, as
// written in the experiment), epochs (the last reported
// epoch), wall_seconds, one final_<name> column per final metric any trial
// has (sorted by name), and reason. Empty cells mean "none"; floats are
// written exactly ("NaN", "+Inf" and "-Inf" included). It does not retain
// d or w.
func WriteCSV(w io.Writer, d Dump) error {
	var finals []string
	for _, t := range d.Trials {
		for k := range t.Final {
			if !slices.Contains(finals, k) {
				finals = append(finals, k)
			}
		}
	}
	slices.Sort(finals)
	header := []string{"number", "state", "generation", "seed", "value"}
	header = append(header, d.Study.Space.Labels...)
	for _, p := range d.Study.Space.Params {
		header = append(header, p.Key)
	}
	header = append(header, "epochs", "wall_seconds")
	for _, k := range finals {
		header = append(header, "final_"+k)
	}
	header = append(header, "reason")

	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("store: writing CSV of %q: %w", d.Study.Name, err)
	}
	row := make([]string, 0, len(header))
	for _, t := range d.Trials {
		row = row[:0]
		value := ""
		if t.Value != nil {
			value = formatFloat(*t.Value)
		}
		row = append(row, strconv.Itoa(t.Number), string(t.State), strconv.Itoa(t.Generation),
			strconv.FormatUint(t.Seed, 10), value)
		for _, g := range t.Gamma {
			row = append(row, formatFloat(g))
		}
		for i, p := range d.Study.Space.Params {
			cell := ""
			if i < len(t.Params) {
				cell = ParamText(p, t.Params[i])
			}
			row = append(row, cell)
		}
		row = append(row, strconv.Itoa(t.LastEpoch()), formatFloat(t.WallTime.Seconds()))
		for _, k := range finals {
			cell := ""
			if v, ok := t.Final[k]; ok {
				cell = formatFloat(v)
			}
			row = append(row, cell)
		}
		row = append(row, t.Reason)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("store: writing CSV of %q: %w", d.Study.Name, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("store: writing CSV of %q: %w", d.Study.Name, err)
	}
	return nil
}

// ParamText returns a trial's value v of hyperparameter p as text: the
// number, or a categorical parameter's choice (a string without quotes,
// anything else as JSON).
func ParamText(p Param, v float64) string {
	if p.Type != Categorical {
		return formatFloat(v)
	}
	k := int(v)
	if k < 0 || k >= len(p.Choices) {
		return formatFloat(v)
	}
	var str string
	if json.Unmarshal(p.Choices[k], &str) == nil {
		return str
	}
	return string(p.Choices[k])
}

// formatFloat writes the shortest decimal that parses back to x.
func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// ExportJSON writes the study as a JSON export file (see WriteJSON), from
// one consistent snapshot of s. Safe to call while a search writes to s;
// changes nothing.
func ExportJSON(ctx context.Context, s Store, study string, w io.Writer) error {
	d, err := s.Export(ctx, study)
	if err != nil {
		return err
	}
	return WriteJSON(w, d)
}

// ExportCSV writes the study's trials as CSV (see WriteCSV), from one
// consistent snapshot of s. Safe to call while a search writes to s;
// changes nothing.
func ExportCSV(ctx context.Context, s Store, study string, w io.Writer) error {
	d, err := s.Export(ctx, study)
	if err != nil {
		return err
	}
	return WriteCSV(w, d)
}

// ImportOptions configures ImportJSON. The zero value imports under the
// exported name and refuses to overwrite.
type ImportOptions struct {
	// Name, if not empty, imports the study under this name instead.
	Name string
	// Replace overwrites a study of the same name, in the same transaction
	// as the import.
	Replace bool
}

// ImportJSON reads an export file from r and writes it into s as one
// transaction, returning the imported study. An existing study of that
// name is ErrStudyExists unless opts.Replace. Durable when it returns nil
// (as Store.Import); on error s is unchanged.
func ImportJSON(ctx context.Context, s Store, r io.Reader, opts ImportOptions) (Study, error) {
	d, err := ReadJSON(r)
	if err != nil {
		return Study{}, err
	}
	if opts.Name != "" {
		d.Study.Name = opts.Name
		for i := range d.Trials {
			d.Trials[i].Study = opts.Name
		}
	}
	if err := s.Import(ctx, d, opts.Replace); err != nil {
		return Study{}, err
	}
	return d.Study, nil
}
