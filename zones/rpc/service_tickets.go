package rpc

import (
	"context"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// Tickets

func ticketPB(t catalog.Ticket) *arcapb.TicketInfo {
	out := &arcapb.TicketInfo{
		Id: int64(t.ID), Type: string(t.Type), Path: t.Path.String(), Collection: t.Collection, Owner: t.Owner.String(),
		CreateUnix: t.CreateTime.Unix(), UsesLimit: t.UsesLimit, UsesCount: t.UsesCount,
		WriteFileLimit: t.WriteFileLimit, WriteFileCount: t.WriteFileCount,
		WriteByteLimit: t.WriteByteLimit, WriteByteCount: t.WriteByteCount, Hosts: t.Hosts,
	}
	if !t.Expires.IsZero() {
		out.ExpiresUnix = t.Expires.Unix()
	}
	for _, u := range t.Users {
		out.Users = append(out.Users, u.String())
	}
	for _, g := range t.Groups {
		out.Groups = append(out.Groups, g.String())
	}
	return out
}

func (s *Service) CreateTicket(ctx context.Context, req *arcapb.CreateTicketRequest) (*arcapb.CreateTicketResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	typ, err := catalog.ParseTicketType(req.Type)
	if err != nil {
		return nil, err
	}
	secret, t, err := s.zone.CreateTicket(ctx, caller(ctx), p, typ, req.Ticket)
	if err != nil {
		return nil, err
	}
	return &arcapb.CreateTicketResponse{Ticket: secret, Info: ticketPB(t)}, nil
}

func (s *Service) ModifyTicket(ctx context.Context, req *arcapb.ModifyTicketRequest) (*arcapb.TicketInfo, error) {
	t, err := s.zone.ModifyTicket(ctx, caller(ctx), req.Ticket, req.Args)
	if err != nil {
		return nil, err
	}
	return ticketPB(t), nil
}

func (s *Service) ListTickets(ctx context.Context, req *arcapb.ListTicketsRequest) (*arcapb.ListTicketsResponse, error) {
	ts, err := s.zone.ListTickets(ctx, caller(ctx), req.Ticket, req.All)
	if err != nil {
		return nil, err
	}
	out := &arcapb.ListTicketsResponse{}
	for _, t := range ts {
		out.Tickets = append(out.Tickets, ticketPB(t))
	}
	return out, nil
}

func (s *Service) RemoveTicket(ctx context.Context, req *arcapb.RemoveTicketRequest) (*arcapb.RemoveTicketResponse, error) {
	if err := s.zone.RemoveTicket(ctx, caller(ctx), req.Ticket); err != nil {
		return nil, err
	}
	return &arcapb.RemoveTicketResponse{}, nil
}
