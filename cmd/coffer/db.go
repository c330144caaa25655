package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	sdk "github.com/coffer-secrets/coffer/client"
)

// newDBCmd is `coffer db`: the database instances product secrets rotate
// on, over the SDK like the secret commands.
func newDBCmd() *cobra.Command {
	conn := &connFlags{}
	cmd := groupCmd("db", "Register the databases product secrets rotate on")
	cmd.Long = `Register, list and deregister the database instances (PostgreSQL, MySQL or
MariaDB) on which product secrets create and rotate accounts. Registering
one names a secret holding its admin credential ({"UserName", "Password"}),
which you must be allowed to read; Coffer logs in with it to check, unless
--skip-check.`
	conn.register(cmd.PersistentFlags())
	cmd.AddCommand(newDBRegisterCmd(conn), newDBListCmd(conn), newDBDeregisterCmd(conn))
	return cmd
}

// databaseJSON is a registered database as JSON output.
type databaseJSON struct {
	InstanceID  string
	ProductName string
	Engine      string
	Host        string
	Port        int
	AdminSecret string
	Description string
	CreateTime  string
}

func toDatabaseJSON(d sdk.Database) databaseJSON {
	return databaseJSON{d.ID, d.ProductName, d.Engine, d.Host, d.Port, d.AdminSecret, d.Description, timeString(d.CreateTime)}
}

func newDBRegisterCmd(conn *connFlags) *cobra.Command {
	var in sdk.DatabaseInput
	cmd := &cobra.Command{
		Use:   "register ID",
		Short: "Register a database instance (RegisterDatabase)",
		Args:  exactArgs(1, "one database id"),
		RunE: withClient(conn, func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if err := checkDBInput(&in); err != nil {
				return err
			}
			in.ID = args[0]
			d, err := c.RegisterDatabase(cmd.Context(), in)
			if err != nil {
				return err
			}
			return p.print(toDatabaseJSON(*d), func(w io.Writer) {
				fmt.Fprintf(w, "Registered database %s (%s at %s:%d)\n", d.ID, d.Engine, d.Host, d.Port)
			})
		}),
	}
	cmd.Example = `  coffer db register orders-pg --engine postgresql --host db.internal --admin-secret orders-pg-admin --database orders --tls require
  coffer db register shop-mysql --engine mysql --host 10.0.0.5 --port 3307 --admin-secret shop-admin`
	f := cmd.Flags()
	f.StringVar(&in.Engine, "engine", "", "postgresql or mysql (required)")
	f.StringVar(&in.Host, "host", "", "host name or address (required)")
	f.IntVar(&in.Port, "port", 0, "port (default 5432 or 3306)")
	f.StringVar(&in.AdminSecret, "admin-secret", "", `secret holding the admin's {"UserName", "Password"} (required)`)
	f.StringVar(&in.Database, "database", "", "database to connect to")
	f.StringVar(&in.TLS, "tls", "", "TLS to the database: disable, require or verify-full")
	f.StringVar(&in.Description, "description", "", "description")
	f.BoolVar(&in.SkipCheck, "skip-check", false, "register without logging in as the admin first")
	return cmd
}

// checkDBInput refuses, as usage errors, what register needs and lacks.
func checkDBInput(in *sdk.DatabaseInput) error {
	var missing []string
	for _, f := range []struct{ flag, v string }{{"--engine", in.Engine}, {"--host", in.Host}, {"--admin-secret", in.AdminSecret}} {
		if f.v == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return usageErr(errors.New("give " + strings.Join(missing, ", ")))
	}
	switch strings.ToLower(in.Engine) {
	case "postgresql", "mysql":
		in.Engine = strings.ToLower(in.Engine)
	default:
		return usageErr(fmt.Errorf("--engine is postgresql or mysql, not %q", in.Engine))
	}
	switch in.TLS {
	case "", "disable", "require", "verify-full":
	default:
		return usageErr(fmt.Errorf("--tls is disable, require or verify-full, not %q", in.TLS))
	}
	if in.Port < 0 || in.Port > 65535 {
		return usageErr(errors.New("--port is 1 to 65535"))
	}
	return nil
}

func newDBListCmd(conn *connFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the registered database instances (DescribeDatabases)",
		Args:  noArgs,
		RunE: withClient(conn, func(cmd *cobra.Command, c *sdk.Client, p *printer, _ []string) error {
			ds, err := c.DescribeDatabases(cmd.Context())
			if err != nil {
				return err
			}
			out := make([]databaseJSON, len(ds))
			for i, d := range ds {
				out[i] = toDatabaseJSON(d)
			}
			return p.print(out, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tENGINE\tHOST\tPORT\tADMIN SECRET\tCREATED")
				for _, d := range out {
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", d.InstanceID, d.Engine, d.Host, d.Port, d.AdminSecret, d.CreateTime)
				}
			})
		}),
	}
}

func newDBDeregisterCmd(conn *connFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "deregister ID",
		Short: "Forget a database instance (DeregisterDatabase)",
		Args:  exactArgs(1, "one database id"),
		RunE: withClient(conn, func(cmd *cobra.Command, c *sdk.Client, p *printer, args []string) error {
			if err := c.DeregisterDatabase(cmd.Context(), args[0]); err != nil {
				return err
			}
			return p.print(map[string]string{"InstanceID": args[0]}, func(w io.Writer) {
				fmt.Fprintf(w, "Deregistered database %s\n", args[0])
			})
		}),
	}
}
