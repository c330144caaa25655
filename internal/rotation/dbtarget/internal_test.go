package dbtarget

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/coffer-secrets/coffer/internal/fault"
)

// TestSCRAMVerifierRFC7677 checks the verifier against the exchange in
// RFC 7677 section 3: the server signature it predicts must be the RFC's,
// and the client proof the RFC shows must verify against its StoredKey.
func TestSCRAMVerifierRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := scramVerifierSalt("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	var iter int
	var saltB64, keys string
	if _, err := fmt.Sscanf(v, "SCRAM-SHA-256$%d:%s", &iter, &saltB64); err != nil {
		t.Fatalf("verifier %q: %v", v, err)
	}
	saltB64, keys, _ = strings.Cut(saltB64, "$")
	storedB64, serverB64, _ := strings.Cut(keys, ":")
	if iter != 4096 || saltB64 != "W22ZaJ0SNY7soEsUEjb6gQ==" {
		t.Fatalf("verifier %q: iterations %d, salt %s", v, iter, saltB64)
	}
	storedKey, _ := base64.StdEncoding.DecodeString(storedB64)
	serverKey, _ := base64.StdEncoding.DecodeString(serverB64)
	const authMessage = "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	if got, want := base64.StdEncoding.EncodeToString(hmacSHA256(serverKey, authMessage)),
		"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; got != want {
		t.Errorf("server signature = %s, want %s", got, want)
	}
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	clientSig := hmacSHA256(storedKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	if sum := sha256.Sum256(clientKey); !hmac.Equal(sum[:], storedKey) {
		t.Error("the RFC's client proof does not verify against StoredKey")
	}
}

func TestSCRAMVerifierSalted(t *testing.T) {
	a, err1 := scramVerifier("pencil")
	b, err2 := scramVerifier("pencil")
	if err1 != nil || err2 != nil || a == b || !strings.HasPrefix(a, "SCRAM-SHA-256$4096:") {
		t.Fatalf("two verifiers of one password: %q, %q (%v, %v); want distinct, salted", a, b, err1, err2)
	}
	if strings.ContainsAny(a, `'\`) {
		t.Fatalf("verifier %q needs quoting", a)
	}
}

func TestValidatePrivileges(t *testing.T) {
	db, tbl := "app", "orders"
	for _, tc := range []struct {
		engine string
		p      Privilege
		want   string // part of the error; "" for none
	}{
		{MySQL, Privilege{Level: LevelGlobal, Privileges: []string{"select", "show  databases"}}, ""},
		{MySQL, Privilege{Level: LevelGlobal, Privileges: []string{"SUPER"}}, "not allowed"},
		{MySQL, Privilege{Level: LevelGlobal, Privileges: []string{"ALL PRIVILEGES"}}, "not allowed"},
		{MySQL, Privilege{Level: LevelGlobal, Privileges: []string{"SELECT"}, Database: db}, "Database must be empty"},
		{MySQL, Privilege{Level: LevelDatabase, Privileges: []string{"SELECT"}, Database: db}, ""},
		{MySQL, Privilege{Level: LevelDatabase, Privileges: []string{"PROCESS"}, Database: db}, "not allowed"},
		{MySQL, Privilege{Level: LevelDatabase, Privileges: []string{"SELECT"}}, "Database is required"},
		{MySQL, Privilege{Level: LevelTable, Privileges: []string{"SHOW VIEW"}, Database: db, Table: tbl}, ""},
		{MySQL, Privilege{Level: LevelTable, Privileges: []string{"EXECUTE"}, Database: db, Table: tbl}, "not allowed"},
		{MySQL, Privilege{Level: LevelTable, Privileges: []string{"SELECT"}, Database: db}, "Table is required"},
		{MySQL, Privilege{Level: LevelColumn, Privileges: []string{"REFERENCES"}, Database: db, Table: tbl, Column: "id"}, ""},
		{MySQL, Privilege{Level: LevelColumn, Privileges: []string{"DELETE"}, Database: db, Table: tbl, Column: "id"}, "not allowed"},
		{MySQL, Privilege{Level: LevelSchema, Privileges: []string{"USAGE"}, Schema: "s"}, "no schemas"},
		{MySQL, Privilege{Level: "Everything", Privileges: []string{"SELECT"}}, "unknown level"},
		{MySQL, Privilege{Level: LevelGlobal}, "no privileges"},
		{MySQL, Privilege{Level: LevelTable, Privileges: []string{"SELECT"}, Database: db, Table: strings.Repeat("t", 65)}, "longer than 64"},
		{MySQL, Privilege{Level: LevelTable, Privileges: []string{"SELECT"}, Database: db, Table: "a\x00"}, "NUL"},
		{Postgres, Privilege{Level: LevelGlobal, Privileges: []string{"SELECT"}}, "no global privileges"},
		{Postgres, Privilege{Level: LevelDatabase, Privileges: []string{"CONNECT", "temp"}, Database: db}, ""},
		{Postgres, Privilege{Level: LevelDatabase, Privileges: []string{"SELECT"}, Database: db}, "not allowed"},
		{Postgres, Privilege{Level: LevelSchema, Privileges: []string{"USAGE", "CREATE"}, Schema: "s"}, ""},
		{Postgres, Privilege{Level: LevelTable, Privileges: []string{"TRUNCATE"}, Table: tbl}, ""},
		{Postgres, Privilege{Level: LevelTable, Privileges: []string{"EXECUTE"}, Table: tbl}, "not allowed"},
		{Postgres, Privilege{Level: LevelTable, Privileges: []string{"SELECT"}, Table: tbl, Object: "x"}, "Object must be empty"},
		{Postgres, Privilege{Level: LevelView, Privileges: []string{"SELECT"}, Object: "v"}, ""},
		{Postgres, Privilege{Level: LevelSequence, Privileges: []string{"USAGE"}, Object: "s"}, ""},
		{Postgres, Privilege{Level: LevelSequence, Privileges: []string{"DELETE"}, Object: "s"}, "not allowed"},
		{Postgres, Privilege{Level: LevelFunction, Privileges: []string{"EXECUTE"}, Object: "f"}, ""},
		{Postgres, Privilege{Level: LevelFunction, Privileges: []string{"EXECUTE"}}, "Object is required"},
		{Postgres, Privilege{Level: LevelColumn, Privileges: []string{"UPDATE"}, Table: tbl, Column: "c"}, ""},
		{Postgres, Privilege{Level: LevelTable, Privileges: []string{"SELECT"}, Table: strings.Repeat("t", 64)}, "longer than 63"},
		{"oracle", Privilege{Level: LevelGlobal, Privileges: []string{"SELECT"}}, "engine"},
	} {
		err := ValidatePrivileges(tc.engine, []Privilege{tc.p})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %+v: %v, want nil", tc.engine, tc.p, err)
		case tc.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %+v: %v, want ErrInvalid containing %q", tc.engine, tc.p, err, tc.want)
		}
	}
}

func TestNormalizePrivileges(t *testing.T) {
	got, err := normalizePrivileges(Postgres, []Privilege{{Level: LevelTable, Privileges: []string{" select", "SELECT", "insert"}, Table: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := got[0]; strings.Join(p.Privileges, ",") != "SELECT,INSERT" || p.Schema != "public" {
		t.Errorf("normalized = %+v, want SELECT,INSERT in schema public", p)
	}
}

func TestValidateUserNameAndHosts(t *testing.T) {
	for _, tc := range []struct {
		engine, name string
		ok           bool
	}{
		{MySQL, "app_user-1.x", true},
		{MySQL, "_a", true},
		{MySQL, strings.Repeat("a", 32), true},
		{MySQL, strings.Repeat("a", 33), false},
		{Postgres, strings.Repeat("a", 63), true},
		{Postgres, strings.Repeat("a", 64), false},
		{Postgres, "pg_monitor", false},
		{Postgres, "PUBLIC", false},
		{MySQL, "pg_ok_on_mysql", true},
	} {
		err := ValidateUserName(tc.engine, tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateUserName(%s, %q) = %v, want ok %t", tc.engine, tc.name, err, tc.ok)
		}
	}
	if err := ValidateHosts(MySQL, []string{"%", "192.168.0.%", "10.0.0.0/255.0.0.0", "::1", "db-1.example.com"}); err != nil {
		t.Errorf("ValidateHosts of good hosts: %v", err)
	}
	if err := ValidateHosts(MySQL, []string{"%", "%"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("ValidateHosts of a duplicate: %v, want ErrInvalid", err)
	}
	if err := ValidateHosts(Postgres, nil); err != nil {
		t.Errorf("ValidateHosts(nil): %v", err)
	}
}

func TestValidatePasswordDoesNotShowIt(t *testing.T) {
	for _, pw := range []string{"", "abc\x01def", "naïve-secret", strings.Repeat("x", 1025)} {
		err := ValidatePassword(pw)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidatePassword(%q) = %v, want ErrInvalid", pw, err)
		}
		if pw != "" && strings.Contains(err.Error(), pw) {
			t.Errorf("error %q shows the password", err)
		}
	}
	if err := ValidatePassword(` !"#$%&'()*+,-./09:;<=>?@AZ[\]^_` + "`az{|}~"); err != nil {
		t.Errorf("ValidatePassword of printable ASCII: %v", err)
	}
}

func TestPGGrantSQLQuotes(t *testing.T) {
	s := &pgSession{db: "app"}
	hostile := `x"; DROP ROLE postgres; --`
	for _, tc := range []struct {
		p    Privilege
		want string
	}{
		{Privilege{Level: LevelDatabase, Privileges: []string{"CONNECT", "TEMPORARY"}, Database: hostile},
			`GRANT CONNECT, TEMPORARY ON DATABASE "x""; DROP ROLE postgres; --" TO "u"`},
		{Privilege{Level: LevelColumn, Privileges: []string{"SELECT", "UPDATE"}, Database: "app", Schema: "s", Table: "t", Column: hostile},
			`GRANT SELECT ("x""; DROP ROLE postgres; --"), UPDATE ("x""; DROP ROLE postgres; --") ON TABLE "s"."t" TO "u"`},
		{Privilege{Level: LevelFunction, Privileges: []string{"EXECUTE"}, Schema: "public", Object: "f"},
			`GRANT EXECUTE ON ROUTINE "public"."f" TO "u"`},
		{Privilege{Level: LevelSequence, Privileges: []string{"USAGE"}, Schema: "public", Object: "q"},
			`GRANT USAGE ON SEQUENCE "public"."q" TO "u"`},
	} {
		got, err := s.grantSQL(tc.p, "u")
		if err != nil || got != tc.want {
			t.Errorf("grantSQL(%+v) = %q, %v; want %q", tc.p, got, err, tc.want)
		}
	}
	_, err := s.grantSQL(Privilege{Level: LevelTable, Privileges: []string{"SELECT"}, Database: "other", Schema: "public", Table: "t"}, "u")
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("grant in another database: %v, want ErrInvalid", err)
	}
}

func TestMyGrantSQLQuotes(t *testing.T) {
	for _, tc := range []struct {
		p         Privilege
		wildcards bool
		want      string
	}{
		{Privilege{Level: LevelGlobal, Privileges: []string{"SELECT", "SHOW DATABASES"}}, true,
			"GRANT SELECT, SHOW DATABASES ON *.* TO ?@?"},
		{Privilege{Level: LevelDatabase, Privileges: []string{"SELECT"}, Database: `my_db%\x`}, true,
			"GRANT SELECT ON `my\\_db\\%\\\\x`.* TO ?@?"},
		{Privilege{Level: LevelDatabase, Privileges: []string{"SELECT"}, Database: "my_db"}, false,
			"GRANT SELECT ON `my_db`.* TO ?@?"},
		{Privilege{Level: LevelTable, Privileges: []string{"SELECT"}, Database: "d", Table: "a`; DROP USER root; --"}, true,
			"GRANT SELECT ON `d`.`a``; DROP USER root; --` TO ?@?"},
		{Privilege{Level: LevelColumn, Privileges: []string{"SELECT", "INSERT"}, Database: "d", Table: "t", Column: "c`"}, true,
			"GRANT SELECT (`c```), INSERT (`c```) ON `d`.`t` TO ?@?"},
	} {
		if got := myGrantSQL(tc.p, tc.wildcards); got != tc.want {
			t.Errorf("myGrantSQL(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestMyRetarget(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"GRANT SELECT, INSERT ON `app`.* TO `old`@`%`", "GRANT SELECT, INSERT ON `app`.* TO `new`@`%`"},
		{"GRANT USAGE ON *.* TO `old`@`%` IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'",
			"GRANT USAGE ON *.* TO `new`@`%`"},
		{"GRANT PROCESS ON *.* TO `old`@`%` IDENTIFIED BY PASSWORD '*AB' REQUIRE SSL WITH GRANT OPTION MAX_USER_CONNECTIONS 3",
			"GRANT PROCESS ON *.* TO `new`@`%` WITH GRANT OPTION"},
		{"GRANT SELECT (`id`) ON `d`.`t` TO `old`@`%`", "GRANT SELECT (`id`) ON `d`.`t` TO `new`@`%`"},
		{"GRANT `reader` TO `old`@`%` WITH ADMIN OPTION", "GRANT `reader` TO `new`@`%` WITH ADMIN OPTION"},
		{"GRANT SELECT ON `x TO ``old``@``%```.* TO `old`@`%`", "GRANT SELECT ON `x TO ``old``@``%```.* TO `new`@`%`"},
		{"REVOKE INSERT ON `mysql`.* FROM `old`@`%`", "REVOKE INSERT ON `mysql`.* FROM `new`@`%`"},
		{"SET DEFAULT ROLE `reader` FOR `old`@`%`", "SET DEFAULT ROLE `reader` FOR `new`@`%`"},
	} {
		got, err := myRetarget(tc.line, "old", "new", "%")
		if err != nil || got != tc.want {
			t.Errorf("myRetarget(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
	for _, line := range []string{"GRANT SELECT ON *.* TO `other`@`%`", "CREATE USER `old`@`%`", "GRANT SELECT ON *.* TO `old`@`10.%`"} {
		if got, err := myRetarget(line, "old", "new", "%"); err == nil {
			t.Errorf("myRetarget(%q) = %q, want an error", line, got)
		}
	}
}

func TestErrorsRedactSecrets(t *testing.T) {
	cause := errors.New(`ERROR: syntax error at or near "hunter2" (SQLSTATE 42601)`)
	err := newError("SetPassword", ErrInvalid, cause, "hunter2")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error = %q, want the password redacted", err)
	}
	if errors.Is(err, cause) {
		t.Error("the redacted error still wraps the cause that shows the password")
	}
	if !errors.Is(err, ErrInvalid) || fault.KindOf(err) != fault.Invalid {
		t.Errorf("redacted error lost its kind: %v", err)
	}
	kept := newError("Open", ErrUnreachable, cause)
	if !errors.Is(kept, cause) || fault.KindOf(kept) != fault.Unavailable {
		t.Errorf("error without secrets = %v, want the cause kept and kind Unavailable", kept)
	}
	rewrapped := newError("CreateUser", nil, newError("", ErrExists, cause))
	if !errors.Is(rewrapped, ErrExists) || strings.Count(rewrapped.Error(), "already exists") != 1 {
		t.Errorf("rewrapped error = %q, want one ErrExists", rewrapped)
	}
}

func TestConnRedactsPassword(t *testing.T) {
	c := Conn{Engine: Postgres, Host: "db", User: "admin", Password: "hunter2", Database: "app"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("open", "conn", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c), c.String(), buf.String()} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "[redacted]") {
			t.Errorf("printed Conn %q shows the password", s)
		}
	}
}

func TestConnValidate(t *testing.T) {
	good := Conn{Engine: MySQL, Host: "127.0.0.1", User: "root"}
	for _, tc := range []struct {
		name string
		edit func(*Conn)
	}{
		{"engine", func(c *Conn) { c.Engine = "oracle" }},
		{"host", func(c *Conn) { c.Host = "" }},
		{"port", func(c *Conn) { c.Port = 70000 }},
		{"user", func(c *Conn) { c.User = "" }},
		{"tls", func(c *Conn) { c.TLS = "verify-ca" }},
		{"ca", func(c *Conn) { c.CACert = "not PEM" }},
		{"timeout", func(c *Conn) { c.Timeout = -1 }},
	} {
		c := good
		tc.edit(&c)
		if err := c.validate("Open"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: validate = %v, want ErrInvalid", tc.name, err)
		}
	}
	if err := good.validate("Open"); err != nil {
		t.Errorf("validate(%v) = %v", good, err)
	}
}

// TestMyRetargetProperty: whatever a quoted name holds, even text that
// spells out the account, myRetarget moves the grant to the new account
// and leaves the name as it was.
func TestMyRetargetProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		db := rapid.String().Draw(t, "db")
		table := rapid.StringOf(rapid.SampledFrom([]rune("`@% TOold.*x'"))).Draw(t, "table")
		on := quoteMy(db) + "." + quoteMy(table)
		line := "GRANT SELECT ON " + on + " TO `old`@`%`"
		got, err := myRetarget(line, "old", "new", "%")
		if want := "GRANT SELECT ON " + on + " TO `new`@`%`"; err != nil || got != want {
			t.Fatalf("myRetarget(%q) = %q, %v; want %q", line, got, err, want)
		}
	})
}
