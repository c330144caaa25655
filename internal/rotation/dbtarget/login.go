package dbtarget

import (
	"context"
)

// TestLogin logs in with c and runs SELECT 1. It returns an ErrLogin error
// when the server refuses the credential (on MySQL, also when the user may
// not use c.Database), ErrInvalid when c.Database does not exist or c is
// malformed, and ErrUnreachable when no connection can be made within
// c.Timeout.
func TestLogin(ctx context.Context, c Conn) error {
	const op = "TestLogin"
	if err := c.validate(op); err != nil {
		return err
	}
	var err error
	if c.Engine == Postgres {
		err = pgTestLogin(ctx, c)
	} else {
		err = myTestLogin(ctx, c)
	}
	if err != nil {
		return newError(op, nil, err, c.Password)
	}
	return nil
}

// SetOwnPassword logs in as c.User with c.Password and changes that
// user's own password to newPassword: the single-user strategy, for a user
// no admin credential manages. Sessions that are logged in keep running.
// On MySQL it changes the account the login matched, giving the current
// password where the server asks for it (password_require_current). It
// returns the errors of TestLogin, and ErrInvalid for a bad newPassword.
func SetOwnPassword(ctx context.Context, c Conn, newPassword string) error {
	const op = "SetOwnPassword"
	if err := c.validate(op); err != nil {
		return err
	}
	if err := ValidatePassword(newPassword); err != nil {
		return newError(op, nil, err)
	}
	var err error
	if c.Engine == Postgres {
		err = pgSetOwnPassword(ctx, c, newPassword)
	} else {
		err = mySetOwnPassword(ctx, c, newPassword)
	}
	if err != nil {
		return newError(op, nil, err, c.Password, newPassword)
	}
	return nil
}

func pgTestLogin(ctx context.Context, c Conn) error {
	conn, err := pgConnect(ctx, c, nil)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return pgError(conn.QueryRow(ctx, "SELECT 1").Scan(&one))
}

func pgSetOwnPassword(ctx context.Context, c Conn, password string) error {
	verifier, err := scramVerifier(password)
	if err != nil {
		return err
	}
	conn, err := pgConnect(ctx, c, nil)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "ALTER ROLE CURRENT_USER PASSWORD '"+verifier+"'")
	return pgError(err, verifier)
}

func myTestLogin(ctx context.Context, c Conn) error {
	db, conn, err := myConnect(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	var one int
	return myError(conn.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

func mySetOwnPassword(ctx context.Context, c Conn, password string) error {
	db, conn, err := myConnect(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "ALTER USER CURRENT_USER() IDENTIFIED BY ?", password)
	switch myNumber(err) {
	case 3892: // ER_MISSING_CURRENT_PASSWORD: MySQL 8 wants the current one
		_, err = conn.ExecContext(ctx, "ALTER USER CURRENT_USER() IDENTIFIED BY ? REPLACE ?", password, c.Password)
	case 1227: // MariaDB wants CREATE USER for ALTER USER, even of oneself, but not for SET PASSWORD
		_, err = conn.ExecContext(ctx, "SET PASSWORD = PASSWORD(?)", password)
	}
	return myError(err, password, c.Password)
}
