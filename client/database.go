package client

import (
	"context"
	"time"
)

// Coffer's own actions: the database instances product secrets rotate on.

// DatabaseInput registers a database instance.
type DatabaseInput struct {
	ID          string // 1-64 letters, digits, '-' and '_'; product secrets name it as InstanceID
	Engine      string // "postgresql" or "mysql" (or the product names "PostgreSQL", "Mysql")
	Host        string
	Port        int    // 0 for the engine's default
	AdminSecret string // a secret holding {"UserName", "Password"} of an account that may create users
	Database    string // the database to connect to, when the engine needs one
	TLS         string // "disable", "require" or "verify-full"; "" for the server's default
	Description string
	// SkipCheck registers without logging in as the admin first.
	SkipCheck bool
}

// Database is a registered database instance.
type Database struct {
	ID          string
	ProductName string // the Tencent product name product secrets give: "PostgreSQL", "Mysql"
	Engine      string
	Host        string
	Port        int
	AdminSecret string
	Description string
	CreateTime  time.Time
}

// RegisterDatabase registers a database instance product secrets can then
// create accounts on; the caller must be allowed to read AdminSecret. It is
// retried only when the server surely did not run it. It returns an
// *Error: ResourceInUse for a taken id, InvalidParameterValue for a bad
// engine, host, port or TLS mode or an admin that cannot log in,
// ResourceNotFound for an unknown AdminSecret, UnauthorizedOperation.
func (c *Client) RegisterDatabase(ctx context.Context, in DatabaseInput) (*Database, error) {
	req := struct {
		InstanceID, Engine, Host string
		Port                     *int64 `json:",omitempty"`
		AdminSecret              string
		Database                 string `json:",omitempty"`
		TLS                      string `json:",omitempty"`
		Description              string `json:",omitempty"`
		SkipCheck                bool   `json:",omitempty"`
	}{in.ID, in.Engine, in.Host, positive(in.Port), in.AdminSecret, in.Database, in.TLS, in.Description, in.SkipCheck}
	var out wireDatabase
	if err := c.call(ctx, "RegisterDatabase", retrySafe, req, &out); err != nil {
		return nil, err
	}
	d := out.database()
	return &d, nil
}

type wireDatabase struct {
	InstanceID, ProductName, Engine, Host string
	Port                                  int64
	AdminSecret, Description              string
	CreateTime                            uint64
}

func (w wireDatabase) database() Database {
	return Database{ID: w.InstanceID, ProductName: w.ProductName, Engine: w.Engine, Host: w.Host, Port: int(w.Port),
		AdminSecret: w.AdminSecret, Description: w.Description, CreateTime: unixTime(w.CreateTime)}
}

// DescribeDatabases returns the database instances registered in the
// client's region. It fails only as every call may, or with
// UnsupportedOperation when the server does not rotate.
func (c *Client) DescribeDatabases(ctx context.Context) ([]Database, error) {
	var out struct{ Databases []wireDatabase }
	if err := c.call(ctx, "DescribeDatabases", retryIdempotent, nil, &out); err != nil {
		return nil, err
	}
	ds := make([]Database, len(out.Databases))
	for i, w := range out.Databases {
		ds[i] = w.database()
	}
	return ds, nil
}

// DeregisterDatabase forgets a database instance; product secrets on it
// cannot rotate until it is registered again. It is retried only when the
// server surely did not run it. It returns an *Error: ResourceNotFound.
func (c *Client) DeregisterDatabase(ctx context.Context, id string) error {
	req := struct{ InstanceID string }{id}
	return c.call(ctx, "DeregisterDatabase", retrySafe, req, nil)
}
