package catalog

import "fmt"

// CheckType checks a license type entry before it is stored: a slug key, a
// 21-character type code, a name, a holder kind, at least one item with a
// unique key, a label and a known data type, enum options for enum items, the
// number item among the items, and at least one issuing department. It returns
// nil or a *ValidationError listing every problem. Whether the departments and
// the template exist is for the caller to check.
func CheckType(t *LicenseType) error {
	var probs []FieldError
	add := func(item, code, msg string) { probs = append(probs, FieldError{Item: item, Code: code, Message: msg}) }
	if !ValidTypeKey(t.Key) {
		add("key", CodeBadValue, "类型标识只能由小写字母、数字和连字符组成")
	}
	if len(t.Code) != 21 || !isUpperAlnum(t.Code) {
		add("code", CodeBadLength, "证照类型代码应为21位大写字母或数字")
	}
	if t.Name == "" {
		add("name", CodeRequired, "必须填写证照名称")
	}
	if t.Holder != NaturalPerson && t.Holder != LegalPerson {
		add("holder", CodeBadOption, "持证主体类别应为 natural 或 legal")
	}
	if len(t.IssuingDepts) == 0 {
		add("issuingDepts", CodeRequired, "至少需要一个颁发部门")
	}
	if len(t.Items) == 0 {
		add("items", CodeRequired, "至少需要一个照面项")
	}
	types := map[DataType]bool{TypeText: true, TypeDate: true, TypeDateLong: true, TypeIDNumber: true,
		TypeUSCC: true, TypeEnum: true, TypePhone: true, TypeImage: true}
	seen := map[string]bool{}
	for i, it := range t.Items {
		at := fmt.Sprintf("items[%d]", i)
		switch {
		case !ValidItemKey(it.Key):
			add(at+".key", CodeBadValue, "照面项标识只能由小写字母、数字和下划线组成")
		case seen[it.Key]:
			add(at+".key", CodeBadValue, "照面项标识重复: "+it.Key)
		}
		seen[it.Key] = true
		if it.Label == "" {
			add(at+".label", CodeRequired, "必须填写照面项名称")
		}
		if !types[it.Type] {
			add(at+".type", CodeBadOption, "未知的数据类型: "+string(it.Type))
		}
		if it.Type == TypeEnum && len(it.Options) == 0 {
			add(at+".options", CodeRequired, "枚举项必须列出可选值")
		}
		if it.MaxLength < 0 {
			add(at+".maxLength", CodeBadValue, "长度不能为负")
		}
	}
	if len(t.Items) > 0 && !seen[t.NumberKey()] {
		add("numberItem", CodeUnknownItem, "证照编号项不在照面项中: "+t.NumberKey())
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// ValidTypeKey reports whether s can key a license type: 1 to 64 characters
// a-z, 0-9 and '-', not starting with '-'.
func ValidTypeKey(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidItemKey reports whether s can key an item: 1 to 64 characters a-z,
// 0-9 and '_'.
func ValidItemKey(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
