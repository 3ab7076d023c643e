package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// The Rules service: irule, iqstat and iqdel.

func ruleInfo(r *rules.Rule) *arcapb.RuleInfo {
	failure := "closed"
	if r.FailOpen {
		failure = "open"
	}
	return &arcapb.RuleInfo{
		Name: r.Name, Description: r.Description, File: r.File, Line: int32(r.Line), On: r.On,
		When: string(r.When), Priority: int32(r.Priority), Mode: r.Mode, Failure: failure,
		Denies: r.Denies(), Actions: r.Actions(), Every: r.Schedule,
	}
}

func (s *Service) ListRules(ctx context.Context, req *arcapb.ListRulesRequest) (*arcapb.ListRulesResponse, error) {
	set, err := s.zone.ListRules(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	resp := &arcapb.ListRulesResponse{Version: set.Version, Files: set.Files}
	resp.VersionNumber, resp.Digest = s.zone.RuleSetInUse()
	if !set.LoadedAt.IsZero() {
		resp.LoadedUnix = set.LoadedAt.Unix()
	}
	for _, r := range set.Rules {
		resp.Rules = append(resp.Rules, ruleInfo(r))
	}
	return resp, nil
}

func (s *Service) CheckRules(ctx context.Context, req *arcapb.CheckRulesRequest) (*arcapb.CheckRulesResponse, error) {
	files := map[string][]byte{}
	for _, f := range req.Files {
		if f.Name == "" {
			return nil, errors.Join(catalog.ErrInvalidArgument, errors.New("a rule file without a name"))
		}
		files[f.Name] = f.Content
	}
	set, err := s.zone.CheckRules(ctx, caller(ctx), files)
	var errs rules.Errors
	var one *rules.Error
	switch {
	case errors.As(err, &errs):
	case errors.As(err, &one):
		errs = rules.Errors{one}
	case err != nil:
		return nil, err
	}
	resp := &arcapb.CheckRulesResponse{}
	for _, e := range errs {
		resp.Errors = append(resp.Errors, &arcapb.RuleError{File: e.File, Line: int32(e.Line), Column: int32(e.Column), Rule: e.Rule, Message: e.Msg})
	}
	if set != nil {
		for _, r := range set.Rules {
			resp.Rules = append(resp.Rules, ruleInfo(r))
		}
	}
	return resp, nil
}

func (s *Service) DryRun(ctx context.Context, req *arcapb.DryRunRequest) (*arcapb.DryRunResponse, error) {
	op := zones.Op{Name: zones.OpName(req.Op), Resource: req.Resource, Size: req.Size, AVUs: avusFromPB(req.Metadata)}
	if op.Name == "" {
		return nil, errors.Join(catalog.ErrInvalidArgument, errors.New("dry run of which operation?"))
	}
	if _, ok := zones.LookupOperation(req.Op); !ok {
		return nil, fmt.Errorf("%w: dry run of %q: no such operation", catalog.ErrInvalidArgument, cut(req.Op))
	}
	var err error
	if req.Path != "" {
		if op.Path, err = parsePath(req.Path); err != nil {
			return nil, err
		}
	}
	if req.Dest != "" {
		if op.Dest, err = parsePath(req.Dest); err != nil {
			return nil, err
		}
	}
	if op.Resource == "" && (op.Name == zones.OpPut || op.Name == zones.OpCopy) {
		op.Resource = s.zone.DefaultResource()
	}
	version, decisions, err := s.zone.DryRun(ctx, caller(ctx), op)
	if err != nil {
		return nil, err
	}
	resp := &arcapb.DryRunResponse{Version: version}
	for _, d := range decisions {
		resp.Decisions = append(resp.Decisions, &arcapb.DryRunDecision{Rule: d.Rule, Outcome: d.Outcome, Message: d.Message, Actions: d.Actions})
		if d.Outcome == "deny" && !resp.Denied {
			resp.Denied = true
		}
	}
	return resp, nil
}

func (s *Service) ListJobs(ctx context.Context, req *arcapb.ListJobsRequest) (*arcapb.ListJobsResponse, error) {
	jobs, err := s.zone.ListJobs(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	resp := &arcapb.ListJobsResponse{}
	for _, j := range jobs {
		info := &arcapb.JobInfo{
			Id: int64(j.ID), Rule: j.Rule, Owner: j.Owner.String(), Every: j.Every, DueUnix: j.Due.Unix(),
			Attempts: int32(j.Attempts), LastError: j.LastError, Failed: j.Failed, Running: j.Holder != "" && j.LeaseExpiry.After(time.Now()),
		}
		var w rules.JobWork
		if json.Unmarshal(j.Work, &w) == nil {
			info.Path = w.Path
			for _, a := range w.Actions {
				info.Actions = append(info.Actions, a.Action)
			}
		}
		resp.Jobs = append(resp.Jobs, info)
	}
	return resp, nil
}

func (s *Service) RemoveJob(ctx context.Context, req *arcapb.RemoveJobRequest) (*arcapb.RemoveJobResponse, error) {
	if err := s.zone.RemoveJob(ctx, caller(ctx), catalog.ID(req.Id)); err != nil {
		return nil, err
	}
	return &arcapb.RemoveJobResponse{}, nil
}

func (s *Service) ListAudit(ctx context.Context, req *arcapb.ListAuditRequest) (*arcapb.ListAuditResponse, error) {
	f := zones.AuditFilter{Rule: req.Rule, User: req.User, Op: req.Op, Outcome: req.Outcome, Limit: int(req.Limit)}
	if req.Path != "" {
		p, err := parsePath(req.Path)
		if err != nil {
			return nil, err
		}
		f.Path = p
	}
	if req.SinceUnix != 0 {
		f.Since = time.Unix(req.SinceUnix, 0)
	}
	recs, err := s.zone.ListAudit(ctx, caller(ctx), f)
	if err != nil {
		return nil, err
	}
	resp := &arcapb.ListAuditResponse{}
	for _, r := range recs {
		resp.Records = append(resp.Records, &arcapb.AuditRecord{
			TimeUnixNano: r.Time.UnixNano(), Kind: r.Kind, Rule: r.Rule, RulesVersion: r.RulesVersion, Op: r.Op,
			User: r.User, Path: r.Path, Outcome: r.Outcome, Message: r.Message, Action: r.Action, Error: r.Error, Job: r.Job,
			RulesDigest: r.RulesDigest,
		})
	}
	return resp, nil
}

func ruleSetInfo(rs catalog.RuleSet) *arcapb.RuleSetInfo {
	info := &arcapb.RuleSetInfo{Version: rs.Version, Digest: rs.Digest, Author: rs.Author.String(), Comment: rs.Comment}
	if !rs.Created.IsZero() {
		info.CreatedUnixNano = rs.Created.UnixNano()
	}
	for name := range rs.Files {
		info.Files = append(info.Files, name)
	}
	slices.Sort(info.Files)
	return info
}

func loadedRules(l zones.LoadedRules) *arcapb.LoadRulesResponse {
	return &arcapb.LoadRulesResponse{RuleSet: ruleSetInfo(l.RuleSet), Rules: int32(l.Rules), Tests: int32(l.Tests), Unchanged: l.Unchanged}
}

func (s *Service) LoadRules(ctx context.Context, req *arcapb.LoadRulesRequest) (*arcapb.LoadRulesResponse, error) {
	l, err := s.zone.LoadRules(ctx, caller(ctx), req.Files, req.Comment)
	if err != nil {
		return nil, err
	}
	return loadedRules(l), nil
}

func (s *Service) RollbackRules(ctx context.Context, req *arcapb.RollbackRulesRequest) (*arcapb.LoadRulesResponse, error) {
	l, err := s.zone.RollbackRules(ctx, caller(ctx), req.Version, req.Comment)
	if err != nil {
		return nil, err
	}
	return loadedRules(l), nil
}

func (s *Service) RuleHistory(ctx context.Context, req *arcapb.RuleHistoryRequest) (*arcapb.RuleHistoryResponse, error) {
	h, err := s.zone.RuleHistory(ctx, caller(ctx), int(req.Limit))
	if err != nil {
		return nil, err
	}
	resp := &arcapb.RuleHistoryResponse{}
	for _, rs := range h {
		resp.Versions = append(resp.Versions, ruleSetInfo(rs))
	}
	return resp, nil
}

// cut shortens what a client sent for an error message.
func cut(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
