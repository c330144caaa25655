package dbtarget

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the servers: PostgreSQL truncates names past NAMEDATALEN-1
// bytes, which could make a grant land on another object, so longer names
// are refused rather than cut; MySQL 5.7 and 8 take 32-character user
// names (MariaDB 80), 255-character hosts and 64-character identifiers.
const (
	pgMaxName      = 63
	myMaxUser      = 32
	myMaxHost      = 255
	myMaxIdent     = 64
	maxPassword    = 1024
	defaultMyHosts = "%"
)

// ValidateUserName checks a database user name for engine. A name starts
// with an ASCII letter or underscore and goes on with ASCII letters,
// digits, '_', '-' and '.'; PostgreSQL names may not start with "pg_" nor
// be one of its reserved role names. Names are quoted in every statement
// anyway; the narrow set keeps them readable in logs, grants and pg_hba.
// It returns an ErrInvalid error.
func ValidateUserName(engine, name string) error {
	const op = "ValidateUserName"
	if err := checkEngine(op, engine); err != nil {
		return err
	}
	limit := myMaxUser
	if engine == Postgres {
		limit = pgMaxName
	}
	if name == "" || len(name) > limit {
		return invalid(op, fmt.Sprintf("user name must have 1 to %d characters", limit))
	}
	for i, r := range name {
		letter := r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || !('0' <= r && r <= '9' || r == '-' || r == '.')) {
			return invalid(op, "user name "+strconv.QuoteToASCII(name)+
				" must start with a letter or '_' and hold only letters, digits, '_', '-' and '.'")
		}
	}
	if engine == Postgres {
		lower := strings.ToLower(name)
		switch {
		case strings.HasPrefix(lower, "pg_"):
			return invalid(op, "PostgreSQL reserves role names that start with pg_")
		case lower == "public" || lower == "none" || lower == "current_user" ||
			lower == "session_user" || lower == "current_role":
			return invalid(op, "PostgreSQL reserves the role name "+strconv.Quote(name))
		}
	}
	return nil
}

// ValidateHosts checks the hosts of a user's accounts: each is a host name,
// an IP address, or a MySQL pattern ("%", "192.168.0.%", "10.0.0.0/255.0.0.0"),
// of ASCII letters, digits and ". - _ % : /", with no duplicates. PostgreSQL
// ignores hosts (pg_hba.conf decides where a role may log in from) but
// checks them all the same, so a request valid for one engine is valid for
// the other. No hosts means "%" on MySQL. It returns an ErrInvalid error.
func ValidateHosts(engine string, hosts []string) error {
	const op = "ValidateHosts"
	if err := checkEngine(op, engine); err != nil {
		return err
	}
	seen := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		if h == "" || len(h) > myMaxHost {
			return invalid(op, fmt.Sprintf("host must have 1 to %d characters", myMaxHost))
		}
		for _, r := range h {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
				strings.ContainsRune(".-_%:/", r)) {
				return invalid(op, "host "+strconv.QuoteToASCII(h)+" holds a character other than letters, digits and . - _ % : /")
			}
		}
		if seen[strings.ToLower(h)] {
			return invalid(op, "host "+strconv.Quote(h)+" given twice")
		}
		seen[strings.ToLower(h)] = true
	}
	return nil
}

// ValidatePassword checks a password: 1 to 1024 printable ASCII characters
// (space through '~'). Non-ASCII text is refused because clients normalize
// it differently (SASLprep for SCRAM, the connection character set on
// MySQL), so one password could log in from one client and not another.
// It returns an ErrInvalid error that does not quote the password.
func ValidatePassword(password string) error {
	if password == "" || len(password) > maxPassword {
		return invalid("ValidatePassword", fmt.Sprintf("password must have 1 to %d characters", maxPassword))
	}
	for i := 0; i < len(password); i++ {
		if c := password[i]; c < 0x20 || c > 0x7e {
			return invalid("ValidatePassword", fmt.Sprintf(
				"password holds a character other than printable ASCII at byte %d", i))
		}
	}
	return nil
}

// validateIdent checks the name of a database, schema, table, column or
// other object: not empty, valid UTF-8 without NUL, and short enough that
// the server takes it whole. Any other character is fine: quoting makes it
// harmless.
func validateIdent(engine, what, name string) error {
	op := "ValidatePrivileges"
	switch {
	case name == "":
		return invalid(op, what+" name is empty")
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
		return invalid(op, what+" name "+strconv.QuoteToASCII(name)+" is not valid UTF-8 text without NUL")
	case engine == Postgres && len(name) > pgMaxName:
		return invalid(op, fmt.Sprintf("%s name %s is longer than %d bytes", what, strconv.QuoteToASCII(name), pgMaxName))
	case engine == MySQL && utf8.RuneCountInString(name) > myMaxIdent:
		return invalid(op, fmt.Sprintf("%s name %s is longer than %d characters", what, strconv.QuoteToASCII(name), myMaxIdent))
	}
	return nil
}

func checkEngine(op, engine string) error {
	if engine != Postgres && engine != MySQL {
		return invalid(op, "engine "+strconv.Quote(engine)+" is not "+Postgres+" or "+MySQL)
	}
	return nil
}

// accounts returns the hosts to act on: hosts on MySQL, "%" when there are
// none; a single placeholder on PostgreSQL, whose roles have no host.
func accounts(engine string, hosts []string) []string {
	if engine == Postgres {
		return []string{""}
	}
	if len(hosts) == 0 {
		return []string{defaultMyHosts}
	}
	return hosts
}

// quotePG quotes a PostgreSQL identifier. Callers have refused NUL.
func quotePG(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteMy quotes a MySQL identifier. Callers have refused NUL.
func quoteMy(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
