package dbtarget_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/coffer-secrets/coffer/internal/rotation/dbtarget"
)

const defaultMyDSN = "root@tcp(127.0.0.1:3306)/"

func myDSN() string {
	if dsn := os.Getenv("COFFER_TEST_MYSQL"); dsn != "" {
		return dsn
	}
	return defaultMyDSN
}

func setupMy() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, err := mysql.ParseDSN(myDSN())
	if err != nil {
		return nil, fmt.Errorf("COFFER_TEST_MYSQL: %w", err)
	}
	host, portText, err := net.SplitHostPort(base.Addr)
	if err != nil {
		return nil, fmt.Errorf("COFFER_TEST_MYSQL address: %w", err)
	}
	port, _ := strconv.Atoi(portText)
	admin := dbtarget.Conn{Engine: dbtarget.MySQL, Host: host, Port: port, User: base.User, Password: base.Passwd}
	s := &server{engine: dbtarget.MySQL, db: "ct_db" + randomHex(6), table: "ct_t", hosts: []string{"%", "127.0.0.1"}}
	if err := myExec(ctx, admin, "SELECT 1"); err != nil {
		return nil, err
	}
	if err := myExec(ctx, admin, "CREATE DATABASE "+s.db); err != nil {
		return nil, err
	}
	s.admin = admin
	s.admin.Database = s.db
	s.teardown = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return myExec(ctx, admin, "DROP DATABASE IF EXISTS "+s.db)
	}
	s.raw = func(ctx context.Context, sql string, args ...any) error { return myExec(ctx, s.admin, sql, args...) }
	s.session = func(ctx context.Context, c dbtarget.Conn) (func(string) error, func(), error) {
		db, err := myDB(c)
		if err != nil {
			return nil, nil, err
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		run := func(sql string) error { _, err := conn.ExecContext(ctx, sql); return err }
		return run, func() { conn.Close(); db.Close() }, nil
	}
	s.enforce = func(testing.TB, string) {} // MySQL always checks passwords
	s.drop = func(ctx context.Context, name string) error {
		for _, h := range s.hosts {
			if err := s.raw(ctx, "DROP USER IF EXISTS ?@?", name, h); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.raw(ctx, "CREATE TABLE "+s.table+" (id int)"); err != nil {
		s.teardown()
		return nil, err
	}
	if err := s.raw(ctx, "INSERT INTO "+s.table+" VALUES (1)"); err != nil {
		s.teardown()
		return nil, err
	}
	return s, nil
}

func myDB(c dbtarget.Conn) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = c.User, c.Password, c.Database
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	cfg.Timeout = 10 * time.Second
	cfg.InterpolateParams = true
	cfg.Logger = &mysql.NopLogger{} // a killed session's EOF is expected
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

func myExec(ctx context.Context, c dbtarget.Conn, query string, args ...any) error {
	db, err := myDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, query, args...)
	return err
}

func myQueryInt(ctx context.Context, c dbtarget.Conn, query string, args ...any) (int64, error) {
	db, err := myDB(c)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}
