package main

import (
	"context"
	"errors"
	"fmt"

	"elicense/catalog"
)

// demoDepartments are the issuing departments of the demo city (Wuhu, 340200).
// Their codes carry correct GB 32100 check characters.
var demoDepartments = []catalog.Department{
	{Key: "wuhu-amr", Name: "芜湖市市场监督管理局", USCC: "11340200MB1A23457N", Region: "340200"},
	{Key: "wuhu-hurd", Name: "芜湖市住房和城乡建设局", USCC: "11340200MB1A23465H", Region: "340200"},
	{Key: "wuhu-psb", Name: "芜湖市公安局", USCC: "11340200MB1A23473C", Region: "340200"},
}

// demoIssuers says which demo department issues each embedded license type.
var demoIssuers = map[string]string{
	"food-business":      "wuhu-amr",
	"special-operations": "wuhu-hurd",
	"no-criminal-record": "wuhu-psb",
}

// bootstrapDemo fills a data directory with what is missing of the demo city:
// departments (only when there are none), the embedded license types
// (published, issued by their demo department; a type already in the catalog
// is left as it is), and the PKI with every department's keys and seal.
func bootstrapDemo(ctx context.Context, a *app) error {
	have, err := a.store.ListDepartments(ctx)
	if err != nil {
		return err
	}
	created := false
	if len(have) == 0 {
		for i := range demoDepartments {
			d := demoDepartments[i]
			if err := a.store.PutDepartment(ctx, &d); err != nil {
				return err
			}
			a.log.Info("demo city: created department", "key", d.Key, "name", d.Name, "uscc", d.USCC, "region", d.Region)
		}
		created = true
	}
	e, err := a.Engine()
	if err != nil {
		return err
	}
	for _, t := range e.Types() {
		if _, err := a.store.GetType(ctx, t.Key); err == nil {
			continue
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		if k, ok := demoIssuers[t.Key]; ok {
			if _, err := a.store.GetDepartment(ctx, k); err == nil {
				t.IssuingDepts = []string{k}
			}
		}
		if len(t.IssuingDepts) == 0 && len(have) == 0 {
			t.IssuingDepts = []string{demoDepartments[0].Key}
		}
		t.Status = catalog.TypePublished
		if t.Version == 0 {
			t.Version = 1
		}
		if err := a.store.PutType(ctx, &t); err != nil {
			return err
		}
		a.log.Info("demo city: published license type", "key", t.Key, "name", t.Name, "code", t.Code, "issuers", t.IssuingDepts)
		created = true
	}
	_, statErr := a.PKI(ctx, true)
	if statErr != nil {
		return fmt.Errorf("pki: %w", statErr)
	}
	if created {
		a.log.Info(fmt.Sprintf("demo city: ready in %s (keys in %s)", a.cfg.DataDir, a.pkiDir()))
	}
	return nil
}
