package arcapb

// Wire constants that the client (icommands) and the server (zones/rpc)
// share beside the generated messages: defined once, here.
const (
	// TicketMetadata is the gRPC metadata key that carries a ticket string.
	TicketMetadata = "arca-ticket"
	// AdminModeMetadata is the gRPC metadata key of -M (admin mode): "1"
	// when a rodsadmin acts as such on other users' data.
	AdminModeMetadata = "arca-admin-mode"
	// PolicyReason is the google.rpc.ErrorInfo reason of an operation that a
	// rule denied; its metadata names the rule.
	PolicyReason = "POLICY_DENIED"
	// PutManyMaxFile is the largest file one PutMany request may carry;
	// larger files get a Put stream of their own.
	PutManyMaxFile = 256 << 10
	// MaxMessageSize is the largest gRPC message either side takes.
	MaxMessageSize = 8 << 20
)
