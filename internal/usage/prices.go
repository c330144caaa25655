package usage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"
)

// HoursPerMonth is the hours in the month a secret's monthly price is
// quoted for: 730, a year's 8,760 hours over 12.
const HoursPerMonth = 730

// PriceList is what usage costs. It is read from a JSON file:
//
//	{"currency": "USD", "secret_month": 0.40, "per_10k_calls": 0.05, "per_rotation": 0}
type PriceList struct {
	Currency string `json:"currency"`
	// SecretMonth is the price of one secret held for a month (730 hours).
	SecretMonth float64 `json:"secret_month"`
	// PerTenThousandCalls is the price of 10,000 API calls.
	PerTenThousandCalls float64 `json:"per_10k_calls"`
	// PerRotation is the price of one successful rotation.
	PerRotation float64 `json:"per_rotation"`
}

// LoadPrices reads a price list from a JSON file. It returns an error when
// the file cannot be read, holds anything but one price list (unknown
// members included), names no currency, or a price is negative.
func LoadPrices(path string) (PriceList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return PriceList{}, err
	}
	var p PriceList
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return PriceList{}, fmt.Errorf("price list %s: %w", path, err)
	}
	if dec.More() {
		return PriceList{}, fmt.Errorf("price list %s: more than one JSON value", path)
	}
	if err := p.check(); err != nil {
		return PriceList{}, fmt.Errorf("price list %s: %w", path, err)
	}
	return p, nil
}

func (p PriceList) check() error {
	if p.Currency == "" {
		return fmt.Errorf("currency is required")
	}
	for _, v := range []float64{p.SecretMonth, p.PerTenThousandCalls, p.PerRotation} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("prices must be finite and not negative")
		}
	}
	return nil
}

// LineItem is one charge of a statement.
type LineItem struct {
	Item      string  `json:"item"`       // "secrets", "api_calls", "rotations"
	Quantity  float64 `json:"quantity"`   // in Unit
	Unit      string  `json:"unit"`       // "secret-month", "10k calls", "rotation"
	UnitPrice float64 `json:"unit_price"` // per Unit
	Amount    float64 `json:"amount"`     // Quantity × UnitPrice, rounded to the cent
}

// Statement is what an account owes for one calendar month.
type Statement struct {
	Account     string     `json:"account"`
	Month       string     `json:"month"` // YYYY-MM
	Currency    string     `json:"currency"`
	SecretHours int64      `json:"secret_hours"`
	APICalls    int64      `json:"api_calls"`
	Rotations   int64      `json:"rotations"`
	Items       []LineItem `json:"items"`
	Total       float64    `json:"total"` // the sum of the items' amounts
}

// Statement prices the part of r in month's calendar month (UTC): secrets
// by secret-hours over HoursPerMonth, API calls (not the SystemFamily's) per
// 10,000, and successful rotations each. Each amount is rounded to the
// cent (half away from zero) and the total is the sum of the rounded
// amounts. Hours of the month outside r count as no usage.
func (p PriceList) Statement(r Report, month time.Time) Statement {
	from := MonthStart(month)
	m := r.Within(from, from.AddDate(0, 1, 0))
	st := Statement{Account: r.Account, Month: from.Format("2006-01"), Currency: p.Currency,
		SecretHours: m.TotalSecretHours, APICalls: m.APICalls, Rotations: m.Rotations}
	st.Items = []LineItem{
		item("secrets", float64(m.TotalSecretHours)/HoursPerMonth, "secret-month", p.SecretMonth),
		item("api_calls", float64(m.APICalls)/10000, "10k calls", p.PerTenThousandCalls),
		item("rotations", float64(m.Rotations), "rotation", p.PerRotation),
	}
	for _, it := range st.Items {
		st.Total += it.Amount
	}
	st.Total = cents(st.Total)
	return st
}

func item(name string, qty float64, unit string, price float64) LineItem {
	return LineItem{Item: name, Quantity: qty, Unit: unit, UnitPrice: price, Amount: cents(qty * price)}
}

// cents rounds x to two decimals, half away from zero.
func cents(x float64) float64 { return math.Round(x*100) / 100 }
