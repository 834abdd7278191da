package main

import (
	"context"
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

// bootstrapDemo fills an empty data directory with the demo city. A data
// directory that already has departments is left alone.
func bootstrapDemo(ctx context.Context, a *app) error {
	have, err := a.store.ListDepartments(ctx)
	if err != nil {
		return err
	}
	if len(have) > 0 {
		return nil
	}
	for i := range demoDepartments {
		d := demoDepartments[i]
		if err := a.store.PutDepartment(ctx, &d); err != nil {
			return err
		}
		a.log.Info("demo city: created department", "key", d.Key, "name", d.Name, "uscc", d.USCC, "region", d.Region)
	}
	a.log.Info(fmt.Sprintf("demo city: created in %s", a.cfg.DataDir))
	return nil
}
