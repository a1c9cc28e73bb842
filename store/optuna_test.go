package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// optunaTrial is a trial as Optuna's journal replay rebuilds it
// (JournalStorageReplayResult._apply_*), enough to compare with the dump.
type optunaTrial struct {
	state        int
	params       map[string]float64
	dists        map[string]map[string]any
	intermediate map[int]float64
	values       []float64
	attrs        map[string]any
	start, end   string
}

// replayOptuna applies a journal as Optuna 3.1 does, failing on anything
// Optuna would choke on: unknown op codes, missing fields, updates to
// unknown or finished trials.
func replayOptuna(t *testing.T, journal []byte) (name string, directions []any, studyAttrs map[string]any, trials []*optunaTrial) {
	t.Helper()
	studyAttrs = map[string]any{}
	lines := strings.Split(strings.TrimSuffix(string(journal), "\n"), "\n")
	for i, line := range lines {
		var op map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&op); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		if op["worker_id"] != optunaWorker {
			t.Fatalf("line %d: worker_id %v", i+1, op["worker_id"])
		}
		code, err := op["op_code"].(json.Number).Int64()
		if err != nil {
			t.Fatalf("line %d: op_code %v", i+1, op["op_code"])
		}
		trial := func() *optunaTrial {
			id, err := op["trial_id"].(json.Number).Int64()
			if err != nil || int(id) >= len(trials) {
				t.Fatalf("line %d: trial_id %v of %d trials", i+1, op["trial_id"], len(trials))
			}
			tr := trials[id]
			if tr.state == optunaComplete || tr.state == optunaPruned || tr.state == optunaFail {
				t.Fatalf("line %d changes finished trial %d", i+1, id)
			}
			return tr
		}
		num := func(k string) float64 {
			n, ok := op[k].(json.Number)
			if !ok {
				t.Fatalf("line %d: %s = %v, want a number", i+1, k, op[k])
			}
			if !strings.ContainsAny(n.String(), ".e") {
				t.Errorf("line %d: %s = %s, which Python reads as an int", i+1, k, n)
			}
			x, _ := n.Float64()
			return x
		}
		switch code {
		case optunaCreateStudy:
			if i != 0 {
				t.Fatalf("line %d creates a second study", i+1)
			}
			name, directions = op["study_name"].(string), op["directions"].([]any)
		case optunaSetStudyUserAttr:
			ua := op["user_attr"].(map[string]any)
			if len(ua) != 1 || op["study_id"] != json.Number("0") {
				t.Fatalf("line %d: study attribute %v of study %v", i+1, ua, op["study_id"])
			}
			for k, v := range ua {
				studyAttrs[k] = v
			}
		case optunaCreateTrial:
			if op["study_id"] != json.Number("0") {
				t.Fatalf("line %d: study_id %v", i+1, op["study_id"])
			}
			ds, ok := op["datetime_start"]
			if !ok {
				t.Fatalf("line %d: no datetime_start (Optuna reads it unconditionally)", i+1)
			}
			tr := &optunaTrial{state: optunaRunning, params: map[string]float64{}, dists: map[string]map[string]any{}, intermediate: map[int]float64{}, attrs: map[string]any{}}
			if s, ok := op["state"]; ok {
				n, _ := s.(json.Number).Int64()
				tr.state = int(n)
			}
			if ds != nil {
				tr.start = ds.(string)
			}
			trials = append(trials, tr)
		case optunaSetTrialParam:
			tr := trial()
			var dist map[string]any
			if err := json.Unmarshal([]byte(op["distribution"].(string)), &dist); err != nil {
				t.Fatalf("line %d: distribution is not a JSON string: %v", i+1, err)
			}
			if n := dist["name"]; n != "FloatDistribution" && n != "IntDistribution" && n != "CategoricalDistribution" {
				t.Fatalf("line %d: distribution %v", i+1, dist)
			}
			p := op["param_name"].(string)
			tr.params[p] = num("param_value_internal")
			tr.dists[p] = dist["attributes"].(map[string]any)
		case optunaSetTrialIntermediate:
			tr := trial()
			step, _ := op["step"].(json.Number).Int64()
			tr.intermediate[int(step)] = num("intermediate_value")
		case optunaSetTrialUserAttr:
			tr := trial()
			ua := op["user_attr"].(map[string]any)
			if len(ua) != 1 {
				t.Fatalf("line %d: %d attributes in one op (Optuna asserts 1)", i+1, len(ua))
			}
			for k, v := range ua {
				tr.attrs[k] = v
			}
		case optunaSetTrialStateValues:
			tr := trial()
			n, _ := op["state"].(json.Number).Int64()
			tr.state = int(n)
			if vs, ok := op["values"].([]any); ok {
				for _, v := range vs {
					x, _ := v.(json.Number).Float64()
					tr.values = append(tr.values, x)
				}
			}
			end, ok := op["datetime_complete"].(string)
			if !ok {
				t.Fatalf("line %d finishes a trial without datetime_complete", i+1)
			}
			tr.end = end
		default:
			t.Fatalf("line %d: op_code %d", i+1, code)
		}
	}
	return name, directions, studyAttrs, trials
}

func TestOptunaJournal(t *testing.T) {
	d := Dump{Study: testStudy(), Trials: testTrials()}
	for i := range d.Trials {
		d.Trials[i].Number = i
	}
	var buf bytes.Buffer
	if err := WriteOptunaJournal(&buf, d); err != nil {
		t.Fatal(err)
	}
	name, dirs, attrs, trials := replayOptuna(t, buf.Bytes())
	if name != d.Study.Name || len(dirs) != 1 || dirs[0] != json.Number("2") {
		t.Errorf("study %q, directions %v; want %q, [2] (maximize)", name, dirs, d.Study.Name)
	}
	if attrs["setup"] != "context-lateral" || attrs["metric"] != "val_acc" || attrs["sampler"] != "cmaes" {
		t.Errorf("study attributes %v", attrs)
	}
	space := attrs["search_space"].(map[string]any)
	if fixed := space["fixed"].(map[string]any); fixed["H_res"] != json.Number("0") {
		t.Errorf("search_space attribute %v does not keep the fixed H_res", space)
	}
	if len(trials) != len(d.Trials) {
		t.Fatalf("%d trials in the journal, %d in the study", len(trials), len(d.Trials))
	}
	// Queued, running, paused, complete, pruned, failed (testTrials).
	wantState := []int{optunaWaiting, optunaRunning, optunaRunning, optunaComplete, optunaPruned, optunaFail}
	for i, tr := range trials {
		src := d.Trials[i]
		if tr.state != wantState[i] {
			t.Errorf("trial %d (%s): Optuna state %d, want %d", i, src.State, tr.state, wantState[i])
		}
		if tr.attrs["state"] != string(src.State) {
			t.Errorf("trial %d: state attribute %v", i, tr.attrs["state"])
		}
		// {1} and {2} are searched; H_res is fixed, so not a parameter.
		if len(tr.params) != 2 || tr.params["{1}"] != src.Gamma[0] || tr.params["{2}"] != src.Gamma[1] {
			t.Errorf("trial %d: params %v, want {1}=%v {2}=%v", i, tr.params, src.Gamma[0], src.Gamma[1])
		}
		if a := tr.dists["{1}"]; a["low"] != -1.0 || a["high"] != 1.0 || a["log"] != false || a["step"] != nil {
			t.Errorf("trial %d: distribution of {1}: %v", i, a)
		}
		if len(tr.intermediate) != len(src.Epochs) {
			t.Errorf("trial %d: %d intermediate values, %d epochs", i, len(tr.intermediate), len(src.Epochs))
		}
		for _, m := range src.Epochs {
			if tr.intermediate[m.Epoch] != m.ValAcc {
				t.Errorf("trial %d: intermediate value of step %d = %v, want val_acc %v", i, m.Epoch, tr.intermediate[m.Epoch], m.ValAcc)
			}
		}
		switch {
		case src.Value != nil && (len(tr.values) != 1 || tr.values[0] != *src.Value):
			t.Errorf("trial %d: values %v, want [%v]", i, tr.values, *src.Value)
		case src.Value == nil && tr.values != nil:
			t.Errorf("trial %d: values %v, want none", i, tr.values)
		}
		if src.State == Queued && tr.start != "" {
			t.Errorf("queued trial %d has a start time %q", i, tr.start)
		}
		for _, ts := range []string{tr.start, tr.end} {
			if _, err := time.ParseInLocation("2006-01-02T15:04:05.000000", ts, time.Local); ts != "" && err != nil {
				t.Errorf("trial %d: time %q is not Python's isoformat: %v", i, ts, err)
			}
		}
	}
	if !strings.Contains(buf.String(), `\"low\":-1.0,\"high\":1.0`) {
		t.Error(`bounds are not written as floats ("low":-1.0)`)
	}
	if trials[3].attrs["final_test_acc"] != json.Number("0.94") || trials[5].attrs["reason"] != "loss is NaN" {
		t.Errorf("user attributes: %v, %v", trials[3].attrs, trials[5].attrs)
	}
	if want := optunaTime(d.Trials[3].Finished); trials[3].end != *want {
		t.Errorf("complete trial ends at %q, want %q", trials[3].end, *want)
	}

	// A study whose trial numbers have a gap cannot be numbered by Optuna.
	d.Trials = d.Trials[1:]
	if err := WriteOptunaJournal(&bytes.Buffer{}, d); err == nil {
		t.Error("a dump starting at trial 1 was written")
	}
}

// A joint search's hyperparameters are Optuna parameters with Optuna's
// distributions: log-float as a log FloatDistribution, int as an
// IntDistribution, categorical by choice index.
func TestOptunaJournalParams(t *testing.T) {
	s := testStudy()
	s.Space.Params = []Param{
		{Key: "network.hidden_layer.adam.lr", Type: LogFloat, Lower: 1e-4, Upper: 1e-2},
		{Key: "network.hidden_layer.binning.bins", Type: Int, Lower: 4, Upper: 40},
		{Key: "network.hidden_layer.binning.kind", Type: Categorical, Choices: []json.RawMessage{json.RawMessage(`"fixed"`), json.RawMessage(`"adaptive"`)}},
	}
	d := Dump{Study: s, Trials: testTrials()[:1]}
	d.Trials[0].Number = 0
	d.Trials[0].Params = []float64{0.003, 17, 1}
	var buf bytes.Buffer
	if err := WriteOptunaJournal(&buf, d); err != nil {
		t.Fatal(err)
	}
	_, _, attrs, trials := replayOptuna(t, buf.Bytes())
	tr := trials[0]
	if tr.params["network.hidden_layer.adam.lr"] != 0.003 || tr.params["network.hidden_layer.binning.bins"] != 17 || tr.params["network.hidden_layer.binning.kind"] != 1 {
		t.Fatalf("params %v", tr.params)
	}
	lr, bins, kind := tr.dists["network.hidden_layer.adam.lr"], tr.dists["network.hidden_layer.binning.bins"], tr.dists["network.hidden_layer.binning.kind"]
	if lr["log"] != true || lr["low"] != 0.0001 || bins["step"] != 1.0 || bins["high"] != 40.0 {
		t.Fatalf("distributions %v %v", lr, bins)
	}
	if ch, _ := kind["choices"].([]any); len(ch) != 2 || ch[1] != "adaptive" {
		t.Fatalf("categorical distribution %v", kind)
	}
	if ps, _ := attrs["search_space"].(map[string]any)["params"].([]any); len(ps) != 3 {
		t.Fatalf("search_space attribute %v", attrs["search_space"])
	}
}
