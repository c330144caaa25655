package dbtarget

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// pgCloneGrants makes, from the catalogs, the statements that give $2 what
// role $1 holds: memberships, privileges on every database, privileges on
// the current database's schemas, relations, columns and routines, and
// default privileges. The server quotes every name (format's %I); the %s
// slots take only privilege keywords from aclexplode and fixed words.
const pgCloneGrants = `
WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1)
SELECT stmt || CASE WHEN grantable THEN ' WITH GRANT OPTION' ELSE '' END FROM (
  SELECT format('GRANT %I TO %I%s', g.rolname, $2::text,
      CASE WHEN m.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END), false
    FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid, r WHERE m.member = r.oid
  UNION ALL
  SELECT format('GRANT %s ON DATABASE %I TO %I', a.privilege_type, d.datname, $2::text), a.is_grantable
    FROM pg_database d, aclexplode(d.datacl) a, r WHERE a.grantee = r.oid
  UNION ALL
  SELECT format('GRANT %s ON SCHEMA %I TO %I', a.privilege_type, n.nspname, $2::text), a.is_grantable
    FROM pg_namespace n, aclexplode(n.nspacl) a, r WHERE a.grantee = r.oid
  UNION ALL
  SELECT format('GRANT %s ON %s %I.%I TO %I', a.privilege_type,
      CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, n.nspname, c.relname, $2::text), a.is_grantable
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a, r
    WHERE a.grantee = r.oid
  UNION ALL
  SELECT format('GRANT %s (%I) ON TABLE %I.%I TO %I', a.privilege_type, att.attname, n.nspname, c.relname,
      $2::text), a.is_grantable
    FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
      aclexplode(att.attacl) a, r
    WHERE a.grantee = r.oid AND NOT att.attisdropped
  UNION ALL
  SELECT format('GRANT %s ON ROUTINE %I.%I(%s) TO %I', a.privilege_type, n.nspname, p.proname,
      pg_get_function_identity_arguments(p.oid), $2::text), a.is_grantable
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a, r
    WHERE a.grantee = r.oid
  UNION ALL
  SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s GRANT %s ON %s TO %I', o.rolname,
      CASE WHEN d.defaclnamespace = 0 THEN '' ELSE format(' IN SCHEMA %I', n.nspname) END,
      a.privilege_type,
      CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
        WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END, $2::text), a.is_grantable
    FROM pg_default_acl d JOIN pg_roles o ON o.oid = d.defaclrole
      LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a, r
    WHERE a.grantee = r.oid
) AS grants (stmt, grantable)`

// pgCloneAttrs returns the CREATE ROLE options that give a role $1's
// attributes: only those that differ from CREATE ROLE's defaults.
const pgCloneAttrs = `
SELECT concat_ws(' ',
    CASE WHEN rolsuper THEN 'SUPERUSER' END, CASE WHEN NOT rolinherit THEN 'NOINHERIT' END,
    CASE WHEN rolcreaterole THEN 'CREATEROLE' END, CASE WHEN rolcreatedb THEN 'CREATEDB' END,
    CASE WHEN rolreplication THEN 'REPLICATION' END, CASE WHEN rolbypassrls THEN 'BYPASSRLS' END,
    CASE WHEN rolconnlimit <> -1 THEN 'CONNECTION LIMIT ' || rolconnlimit END)
  FROM pg_roles WHERE rolname = $1`

func (s *pgSession) cloneUser(ctx context.Context, from, to, password string, _ []string) error {
	if ok, err := s.userExists(ctx, to, nil); err != nil || ok {
		if err != nil {
			return err
		}
		return s.setPassword(ctx, to, password, nil)
	}
	verifier, err := scramVerifier(password)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		var attrs string
		if err := tx.QueryRow(ctx, pgCloneAttrs, from).Scan(&attrs); errors.Is(err, pgx.ErrNoRows) {
			return newError("", ErrNotFound, fmt.Errorf("user to clone %q does not exist", from))
		} else if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, pgCloneGrants, from, to)
		if err != nil {
			return err
		}
		grants, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		create := "CREATE ROLE " + quotePG(to) + " LOGIN " + attrs + " PASSWORD '" + verifier + "'"
		for _, stmt := range append([]string{create}, grants...) {
			if err := s.exec(ctx, tx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	return pgError(err, verifier)
}
