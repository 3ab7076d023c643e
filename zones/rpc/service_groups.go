package rpc

import (
	"context"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// Groups and access (Admin and Access services).

func idStrings(ids []catalog.UserID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func (s *Service) MakeGroup(ctx context.Context, req *arcapb.MakeGroupRequest) (*arcapb.User, error) {
	g, err := s.zone.MakeGroup(ctx, caller(ctx), req.Name)
	if err != nil {
		return nil, err
	}
	return userPB(g), nil
}

func (s *Service) RemoveGroup(ctx context.Context, req *arcapb.RemoveGroupRequest) (*arcapb.RemoveGroupResponse, error) {
	if err := s.zone.RemoveGroup(ctx, caller(ctx), req.Name); err != nil {
		return nil, err
	}
	return &arcapb.RemoveGroupResponse{}, nil
}

func (s *Service) AddGroupMember(ctx context.Context, req *arcapb.GroupMemberRequest) (*arcapb.GroupMemberResponse, error) {
	if err := s.zone.AddToGroup(ctx, caller(ctx), req.Group, req.User); err != nil {
		return nil, err
	}
	return &arcapb.GroupMemberResponse{}, nil
}

func (s *Service) RemoveGroupMember(ctx context.Context, req *arcapb.GroupMemberRequest) (*arcapb.GroupMemberResponse, error) {
	if err := s.zone.RemoveFromGroup(ctx, caller(ctx), req.Group, req.User); err != nil {
		return nil, err
	}
	return &arcapb.GroupMemberResponse{}, nil
}

func (s *Service) ListGroups(ctx context.Context, req *arcapb.ListGroupsRequest) (*arcapb.ListGroupsResponse, error) {
	out := &arcapb.ListGroupsResponse{}
	if req.Group != "" {
		members, err := s.zone.GroupMembers(ctx, caller(ctx), req.Group)
		if err != nil {
			return nil, err
		}
		out.Members = idStrings(members)
		return out, nil
	}
	groups, err := s.zone.ListGroups(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		out.Groups = append(out.Groups, userPB(g))
	}
	return out, nil
}

func (s *Service) UserInfo(ctx context.Context, req *arcapb.UserInfoRequest) (*arcapb.UserInfoResponse, error) {
	info, err := s.zone.DescribeUser(ctx, caller(ctx), req.Name)
	if err != nil {
		return nil, err
	}
	return &arcapb.UserInfoResponse{User: userPB(info.User), Groups: idStrings(info.Groups), Members: idStrings(info.Members)}, nil
}

func (s *Service) SetAccess(ctx context.Context, req *arcapb.SetAccessRequest) (*arcapb.SetAccessResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	level, err := catalog.ParseAccessLevel(req.Level)
	if err != nil {
		return nil, err
	}
	if err := s.zone.SetAccess(ctx, caller(ctx), p, req.Principal, level, req.Recursive, req.AdminMode); err != nil {
		return nil, err
	}
	return &arcapb.SetAccessResponse{}, nil
}

func (s *Service) SetInheritance(ctx context.Context, req *arcapb.SetInheritanceRequest) (*arcapb.SetInheritanceResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	if err := s.zone.SetInheritance(ctx, caller(ctx), p, req.Inherit, req.Recursive, req.AdminMode); err != nil {
		return nil, err
	}
	return &arcapb.SetInheritanceResponse{}, nil
}
