use serde_json::{Map, Value, json};

use super::*;

fn parse_with(base: Value, arg: &str, scalars: Scalars<'_>) -> Result<Value, String> {
    let Value::Object(mut map) = base else {
        panic!("test base must be an object");
    };
    parse_into(arg, &mut map, scalars).map_err(|e| e.to_string())?;
    Ok(Value::Object(map))
}

fn typed(arg: &str) -> Result<Value, String> {
    parse_with(json!({}), arg, Scalars::Typed)
}

#[test]
fn set_builds_trees() {
    let cases: &[(&str, Value)] = &[
        ("name1=value1", json!({"name1": "value1"})),
        (
            "name1=value1,name2=value2",
            json!({"name1": "value1", "name2": "value2"}),
        ),
        (
            "name1=value1,name2=value2,",
            json!({"name1": "value1", "name2": "value2"}),
        ),
        (
            "name1=,name2=value2",
            json!({"name1": "", "name2": "value2"}),
        ),
        ("name1=", json!({"name1": ""})),
        ("name1=one two three", json!({"name1": "one two three"})),
        (" a = b ", json!({" a ": " b "})),
        ("a=b=c", json!({"a": "b=c"})),
        ("a=b.c[0]", json!({"a": "b.c[0]"})),
        // escapes
        (
            "name1=one\\,two,name2=three\\,four",
            json!({"name1": "one,two", "name2": "three,four"}),
        ),
        ("name1=one\\=two", json!({"name1": "one=two"})),
        ("key\\.with\\.dots=x", json!({"key.with.dots": "x"})),
        ("a\\=b=c", json!({"a=b": "c"})),
        ("a\\[0\\]=c", json!({"a[0]": "c"})),
        ("a\\\\b=c", json!({"a\\b": "c"})),
        ("value=a\\\\b", json!({"value": "a\\b"})),
        ("value=a\\b", json!({"value": "ab"})),
        ("value=b\\", json!({"value": "b"})),
        (
            "podAnnotations.example\\.com/team=infra",
            json!({"podAnnotations": {"example.com/team": "infra"}}),
        ),
        // nesting
        ("outer.inner=value", json!({"outer": {"inner": "value"}})),
        (
            "outer.middle.inner=value",
            json!({"outer": {"middle": {"inner": "value"}}}),
        ),
        (
            "outer.inner1=value,outer.inner2=value2",
            json!({"outer": {"inner1": "value", "inner2": "value2"}}),
        ),
        (
            "outer.inner1=value,outer.middle.inner=value",
            json!({"outer": {"inner1": "value", "middle": {"inner": "value"}}}),
        ),
        ("name1.name2=", json!({"name1": {"name2": ""}})),
        ("a=1,a=2", json!({"a": 2})),
        ("a.b=1,a=2", json!({"a": 2})),
        (
            "ingress-nginx.controller.service.type=LoadBalancer",
            json!({"ingress-nginx": {"controller": {"service": {"type": "LoadBalancer"}}}}),
        ),
        // brace lists
        (
            "name1={value1,value2}",
            json!({"name1": ["value1", "value2"]}),
        ),
        (
            "name1={value1,value2},name2={value1,value2}",
            json!({"name1": ["value1", "value2"], "name2": ["value1", "value2"]}),
        ),
        ("name1={1021,902}", json!({"name1": [1021, 902]})),
        (
            "name1.name2={value1,value2}",
            json!({"name1": {"name2": ["value1", "value2"]}}),
        ),
        (
            "mixed={true,1,x,null,1.5}",
            json!({"mixed": [true, 1, "x", null, "1.5"]}),
        ),
        ("spaced={a, 1}", json!({"spaced": ["a", " 1"]})),
        ("escaped={a\\,b,c\\}}", json!({"escaped": ["a,b", "c}"]})),
        ("single={x}", json!({"single": ["x"]})),
        // Helm quirk: `{}` is a list with one empty string.
        ("empty={}", json!({"empty": [""]})),
        ("trailing={a,}", json!({"trailing": ["a", ""]})),
        // Helm quirk: no comma is needed after a closing brace.
        ("list={a,b}c=1", json!({"list": ["a", "b"], "c": 1})),
        ("notlist=x{a}", json!({"notlist": "x{a}"})),
        // list indexes
        ("list[0]=foo", json!({"list": ["foo"]})),
        ("list[0].foo=bar", json!({"list": [{"foo": "bar"}]})),
        (
            "list[0].foo=bar,list[0].hello=world",
            json!({"list": [{"foo": "bar", "hello": "world"}]}),
        ),
        ("list[0]=foo,list[1]=bar", json!({"list": ["foo", "bar"]})),
        ("list[0]=foo,list[1]=bar,", json!({"list": ["foo", "bar"]})),
        (
            "list[0]=foo,list[3]=bar",
            json!({"list": ["foo", null, null, "bar"]}),
        ),
        ("list[2]=x", json!({"list": [null, null, "x"]})),
        ("list[1]=b,list[0]=a", json!({"list": ["a", "b"]})),
        ("list[+1]=x", json!({"list": [null, "x"]})),
        ("list[01]=x", json!({"list": [null, "x"]})),
        ("list[0]={a,b}", json!({"list": [["a", "b"]]})),
        ("list[0]=", json!({"list": [""]})),
        ("noval[0]=", json!({"noval": [""]})),
        ("nested[0][0]=1", json!({"nested": [[1]]})),
        ("nested[1][1]=1", json!({"nested": [null, [null, 1]]})),
        ("nested[0][0].a=1", json!({"nested": [[{"a": 1}]]})),
        (
            "nested[0].a[1].b=1",
            json!({"nested": [{"a": [null, {"b": 1}]}]}),
        ),
        (
            "name1.name2[0].foo=bar,name1.name2[1].foo=bar",
            json!({"name1": {"name2": [{"foo": "bar"}, {"foo": "bar"}]}}),
        ),
        (
            "name1.name2[1].foo=bar,name1.name2[0].foo=bar",
            json!({"name1": {"name2": [{"foo": "bar"}, {"foo": "bar"}]}}),
        ),
        (
            "name1.name2[1].foo=bar",
            json!({"name1": {"name2": [null, {"foo": "bar"}]}}),
        ),
        ("a[0]=x,a[0].b=y", json!({"a": [{"b": "y"}]})),
        (
            "tolerations[0].key=a,tolerations[0].operator=Exists",
            json!({"tolerations": [{"key": "a", "operator": "Exists"}]}),
        ),
        // Helm quirks kept for parity: an argument that ends inside a key or a new list item
        // leaves nothing (or an empty list) behind.
        ("a.", json!({})),
        ("noval[0]", json!({"noval": []})),
        ("a[0][1]", json!({"a": []})),
        ("a[0].", json!({"a": []})),
        ("a[0].b=", json!({"a": []})),
        ("a[0].b=x", json!({"a": [{"b": "x"}]})),
        ("", json!({})),
    ];
    for (arg, expected) in cases {
        assert_eq!(typed(arg).as_ref(), Ok(expected), "--set {arg}");
    }
}

#[test]
fn set_types_scalars_like_helm() {
    let cases: &[(&str, Value)] = &[
        ("true", json!(true)),
        ("TRUE", json!(true)),
        ("True", json!(true)),
        ("false", json!(false)),
        ("FaLsE", json!(false)),
        // Go's EqualFold folds the long s to `s`.
        ("fal\u{17f}e", json!(false)),
        ("null", json!(null)),
        ("NULL", json!(null)),
        ("Null", json!(null)),
        ("0", json!(0)),
        ("1", json!(1)),
        ("1234567890", json!(1_234_567_890)),
        ("-5", json!(-5)),
        ("+5", json!(5)),
        ("-0", json!(0)),
        ("+0", json!(0)),
        // The leading-zero rule only looks at the first character, so a sign gets past it.
        ("-007", json!(-7)),
        ("9223372036854775807", json!(i64::MAX)),
        ("-9223372036854775808", json!(i64::MIN)),
        ("9223372036854775808", json!("9223372036854775808")),
        ("00009", json!("00009")),
        ("007", json!("007")),
        ("0x1F", json!("0x1F")),
        ("00", json!("00")),
        ("1.5", json!("1.5")),
        ("1.0", json!("1.0")),
        ("1e3", json!("1e3")),
        ("1_000", json!("1_000")),
        (" 5", json!(" 5")),
        ("5 ", json!("5 ")),
        ("-", json!("-")),
        ("+", json!("+")),
        ("", json!("")),
        ("yes", json!("yes")),
        ("on", json!("on")),
        ("nil", json!("nil")),
        ("~", json!("~")),
        ("truex", json!("truex")),
        ("30050", json!(30050)),
    ];
    for (text, expected) in cases {
        let arg = format!("v={text}");
        assert_eq!(typed(&arg), Ok(json!({ "v": expected })), "--set {arg}");
    }
}

#[test]
fn set_errors_name_the_key() {
    let deep_ok: Vec<String> = (0..=MAX_NESTING).map(|i| format!("k{i}")).collect();
    assert_eq!(deep_ok.len() - 1, MAX_NESTING);
    assert!(typed(&format!("{}=x", deep_ok.join("."))).is_ok());
    let too_deep: Vec<String> = (0..=MAX_NESTING + 1).map(|i| format!("k{i}")).collect();
    let too_deep_arg = format!("{}=x", too_deep.join("."));
    let too_deep_message = format!(
        "key \"{}\" is nested deeper than the maximum of 30 levels",
        too_deep[..=MAX_NESTING].join(".")
    );

    let cases: Vec<(&str, String)> = vec![
        ("name1", "key \"name1\" has no value".into()),
        ("a.b", "key \"a.b\" has no value".into()),
        (
            "name1,name2",
            "key \"name1\" has no value (found \",\" at character 6)".into(),
        ),
        (
            "name1,name2=",
            "key \"name1\" has no value (found \",\" at character 6)".into(),
        ),
        (
            "name1,name2=value2",
            "key \"name1\" has no value (found \",\" at character 6)".into(),
        ),
        (
            "name1,name2=value2\\",
            "key \"name1\" has no value (found \",\" at character 6)".into(),
        ),
        (
            "name1=value1,,,,name2=value2,",
            "key \"\" has no value (found \",\" at character 14)".into(),
        ),
        ("name1.name2", "key \"name1.name2\" has no value".into()),
        (
            "name1.name2,name1.name3",
            "key \"name1.name2\" has no value (found \",\" at character 12)".into(),
        ),
        // Helm ignores empty keys; skyctl refuses them (see `empty_keys_are_refused`).
        (
            "name1.=name2",
            "key \"name1\": empty key before \"=\" at character 7".into(),
        ),
        (
            "name1.,name2",
            "key \"name1.\" has no value (found \",\" at character 7)".into(),
        ),
        (
            "name1={1021,902",
            "key \"name1\": list must end with \"}\"".into(),
        ),
        ("name1={", "key \"name1\": list must end with \"}\"".into()),
        ("x={a,b}c", "key \"c\" has no value".into()),
        ("notlist=x{a,b}", "key \"b}\" has no value".into()),
        (
            "list[0].foo=bar,list[-30].hello=world",
            "key \"list\": negative list index -30 is not allowed".into(),
        ),
        (
            "list[0]=foo,list[-20]=bar",
            "key \"list\": negative list index -20 is not allowed".into(),
        ),
        (
            "illegal[0]name.foo=bar",
            "key \"illegal[0]\": unexpected \"name\" after the list index".into(),
        ),
        (
            "a[0],b=1",
            "key \"a[0]\": unexpected \",b\" after the list index".into(),
        ),
        (
            "list[x]=1",
            "key \"list\": list index \"x\" is not an integer".into(),
        ),
        (
            "list[]=1",
            "key \"list\": list index \"\" is not an integer".into(),
        ),
        (
            "list[1.5]=1",
            "key \"list\": list index \"1.5\" is not an integer".into(),
        ),
        (
            "list[ 1]=1",
            "key \"list\": list index \" 1\" is not an integer".into(),
        ),
        (
            "list[99999999999999999999]=1",
            "key \"list\": list index \"99999999999999999999\" is not an integer".into(),
        ),
        (
            "list[0",
            "key \"list\": list index has no closing \"]\"".into(),
        ),
        (
            "list[0][1",
            "key \"list[0]\": list index has no closing \"]\"".into(),
        ),
        (
            "list[65537]=x",
            "key \"list\": list index 65537 is larger than the maximum of 65536".into(),
        ),
        (
            "a.b[0][65537]=x",
            "key \"a.b[0]\": list index 65537 is larger than the maximum of 65536".into(),
        ),
        (
            "]={}].",
            "key \"]\" already holds array, so it cannot take nested keys".into(),
        ),
        (
            "a=1,a.b=2",
            "key \"a\" already holds integer 1, so it cannot take nested keys".into(),
        ),
        (
            "a=x,a[0]=y",
            "key \"a\" already holds string \"x\", so it cannot take list indexes".into(),
        ),
        (
            "a=null,a.b=1",
            "key \"a\" already holds null, so it cannot take nested keys".into(),
        ),
        (
            "a.b=x,a.b.c=y",
            "key \"a.b\" already holds string \"x\", so it cannot take nested keys".into(),
        ),
        (
            "a[0]=x,a[0][0]=y",
            "key \"a[0]\" already holds string \"x\", so it cannot take list indexes".into(),
        ),
        (
            "k\\.x=1,k\\.x.y=2",
            "key \"k\\.x\" already holds integer 1, so it cannot take nested keys".into(),
        ),
        (too_deep_arg.as_str(), too_deep_message),
    ];
    for (arg, expected) in cases {
        assert_eq!(typed(arg), Err(expected), "--set {arg}");
    }
}

#[test]
fn set_indexes_up_to_the_maximum() {
    let tree = typed(&format!("list[{MAX_INDEX}]=x")).expect("maximum index is allowed");
    let list = tree["list"].as_array().expect("a list");
    assert_eq!(list.len(), MAX_INDEX + 1);
    assert_eq!(list[MAX_INDEX], json!("x"));
    assert!(list[..MAX_INDEX].iter().all(Value::is_null));
}

#[test]
fn set_writes_into_existing_values() {
    // (earlier values, argument, result): how one --set lands on what earlier layers built.
    let cases: Vec<(Value, &str, Value)> = vec![
        (
            json!({"outer": {"inner1": "overwrite", "inner2": "value2"}}),
            "outer.inner1=value1,outer.inner3=value3,outer.inner4=4",
            json!({"outer": {"inner1": "value1", "inner2": "value2", "inner3": "value3", "inner4": 4}}),
        ),
        (
            json!({"listOuter": [[{"type": "listValue"}]]}),
            "listOuter[0][0].status=alive",
            json!({"listOuter": [[{"type": "listValue", "status": "alive"}]]}),
        ),
        (
            json!({"listOuter": [[{"type": "listValue"}]]}),
            "listOuter[1][0].status=alive",
            json!({"listOuter": [[{"type": "listValue"}], [{"status": "alive"}]]}),
        ),
        (
            json!({"listOuter": [[[{"exited": "old"}]]]}),
            "listOuter[0][1][0].type=listValue,listOuter[0][0][1].status=alive",
            json!({"listOuter": [[[{"exited": "old"}, {"status": "alive"}], [{"type": "listValue"}]]]}),
        ),
        // An index changes one item of a list that an earlier layer supplied.
        (
            json!({"list": ["a", "b", "c"]}),
            "list[1]=x",
            json!({"list": ["a", "x", "c"]}),
        ),
        (
            json!({"env": [{"name": "A", "value": "1"}]}),
            "env[0].value=2",
            json!({"env": [{"name": "A", "value": 2}]}),
        ),
        (
            json!({"list": ["a"]}),
            "list[2]=c",
            json!({"list": ["a", null, "c"]}),
        ),
        (
            json!({"list": [null]}),
            "list[0][1]=x",
            json!({"list": [[null, "x"]]}),
        ),
        (json!({"a": {"b": 1}}), "a=null", json!({"a": null})),
        (json!({"a": {"b": 1}}), "a={x}", json!({"a": ["x"]})),
        (json!({"a": {"b": 1}}), "a.", json!({"a": {"b": 1}})),
        (json!({"a": {}}), "a.b.", json!({"a": {}})),
    ];
    for (base, arg, expected) in cases {
        assert_eq!(
            parse_with(base.clone(), arg, Scalars::Typed),
            Ok(expected),
            "{base} + --set {arg}"
        );
    }
    assert_eq!(
        parse_with(json!({"a": {}}), "a.=x", Scalars::Typed),
        Err("key \"a\": empty key before \"=\" at character 3".to_owned())
    );
    // Helm follows `.y=2` into a "" map that a file holds, and ignores it otherwise; skyctl
    // refuses it either way.
    assert_eq!(
        parse_with(json!({"": {"x": 1}}), ".y=2", Scalars::Typed),
        Err("empty key before \".\" at character 1".to_owned())
    );
    assert_eq!(
        parse_with(json!({"a": "x"}), "a.", Scalars::Typed),
        Err("key \"a\" already holds string \"x\", so it cannot take nested keys".to_owned())
    );
    assert_eq!(
        parse_with(json!({"a": [1]}), "a.b=x", Scalars::Typed),
        Err("key \"a\" already holds array, so it cannot take nested keys".to_owned())
    );
    assert_eq!(
        parse_with(json!({"a": {"b": 1}}), "a[0]=x", Scalars::Typed),
        Err("key \"a\" already holds object, so it cannot take list indexes".to_owned())
    );
}

#[test]
fn set_string_keeps_strings() {
    let cases: &[(&str, Value)] = &[
        (
            "long_int_string=1234567890",
            json!({"long_int_string": "1234567890"}),
        ),
        ("boolean=true", json!({"boolean": "true"})),
        ("is_null=null", json!({"is_null": "null"})),
        ("zero=0", json!({"zero": "0"})),
        ("list={1,true,null}", json!({"list": ["1", "true", "null"]})),
        ("a[1]=2", json!({"a": [null, "2"]})),
        ("a.b=,c=x\\,y", json!({"a": {"b": ""}, "c": "x,y"})),
    ];
    for (arg, expected) in cases {
        assert_eq!(
            parse_with(json!({}), arg, Scalars::Strings).as_ref(),
            Ok(expected),
            "--set-string {arg}"
        );
    }
    let base = json!({"outer": {"inner1": "overwrite", "inner2": "value2"}});
    assert_eq!(
        parse_with(base, "outer.inner1=1,outer.inner3=3", Scalars::Strings),
        Ok(json!({"outer": {"inner1": "1", "inner2": "value2", "inner3": "3"}}))
    );
    assert_eq!(
        parse_with(json!({}), "a", Scalars::Strings),
        Err("key \"a\" has no value".to_owned())
    );
}

#[test]
fn set_json_parses_documents() {
    let cases: Vec<(Value, &str, Value)> = vec![
        (
            json!({"outer": {"inner1": "overwrite", "inner2": "value2"}}),
            r#"outer.inner1="1",outer.inner3=3,outer.inner4=true,outer.inner5="true""#,
            json!({"outer": {"inner1": "1", "inner2": "value2", "inner3": 3, "inner4": true, "inner5": "true"}}),
        ),
        (
            json!({"outer": {"inner1": {"x": "overwrite"}, "inner2": "value2", "inner3": ["overwrite"]}}),
            r#"outer.inner1={"a":"1","b":2,"c":[1,2,3]},outer.inner3=["new value 1","new value 2"],outer.inner5=[{"A":"1"}]"#,
            json!({"outer": {
                "inner1": {"a": "1", "b": 2, "c": [1, 2, 3]},
                "inner2": "value2",
                "inner3": ["new value 1", "new value 2"],
                "inner5": [{"A": "1"}],
            }}),
        ),
        (
            json!({"outer": {"inner1": {"x": "overwrite"}, "inner2": "value2"}}),
            r#"outer.inner1=,outer.inner3={"aa":"1","bb":2,"cc":[1,2,3]},outer.inner3.cc[1]=null"#,
            json!({"outer": {"inner1": null, "inner2": "value2", "inner3": {"aa": "1", "bb": 2, "cc": [1, null, 3]}}}),
        ),
        (json!({}), r#"a.b={"x":1}"#, json!({"a": {"b": {"x": 1}}})),
        (json!({}), "a=", json!({"a": null})),
        (json!({}), "a=,b=1", json!({"a": null, "b": 1})),
        (json!({}), "a=  ,b=2", json!({"a": null, "b": 2})),
        (json!({}), "a= 1 ,b=2", json!({"a": 1, "b": 2})),
        (json!({}), "a=1.5", json!({"a": 1.5})),
        (json!({}), "a=-3", json!({"a": -3})),
        (json!({}), "a=null", json!({"a": null})),
        (json!({}), r#"a="x,y",b=2"#, json!({"a": "x,y", "b": 2})),
        (json!({}), r#"a="é""#, json!({"a": "é"})),
        // Helm carries on after a bracketed or quoted JSON value even without a comma.
        (json!({}), r#"a={"x":1}b=2"#, json!({"a": {"x": 1}, "b": 2})),
        (
            json!({}),
            r#"a[1]={"k":"v"}"#,
            json!({"a": [null, {"k": "v"}]}),
        ),
        (json!({}), "a[0]=", json!({"a": [null]})),
        (
            json!({}),
            "a[0]=,a[2]=true",
            json!({"a": [null, null, true]}),
        ),
        (json!({}), "a\\.b=[]", json!({"a.b": []})),
    ];
    for (base, arg, expected) in cases {
        assert_eq!(
            parse_with(base, arg, Scalars::Json),
            Ok(expected),
            "--set-json {arg}"
        );
    }
    let errors = [
        (
            "a=hello",
            "key \"a\": invalid JSON: expected value at line 1 column 1",
        ),
        (
            r#"a={"x":1"#,
            "key \"a\": invalid JSON: EOF while parsing an object at line 1 column 6",
        ),
        (
            "a[0]=nope",
            "key \"a[0]\": invalid JSON: expected ident at line 1 column 2",
        ),
        // Stricter than Helm, which would read `1` and then a key `x`.
        (
            "a=1x=2",
            "key \"a\": invalid JSON: trailing characters at line 1 column 2",
        ),
        ("a", "key \"a\" has no value"),
    ];
    for (arg, expected) in errors {
        assert_eq!(
            parse_with(json!({}), arg, Scalars::Json),
            Err(expected.to_owned()),
            "--set-json {arg}"
        );
    }
}

#[test]
fn set_file_reads_each_value() {
    let mut read = |name: &str| match name {
        "one.txt" => Ok("first\n".to_owned()),
        "two.txt" => Ok("second".to_owned()),
        other => Err(format!("no file named {other}")),
    };
    let tree = parse_with(
        json!({}),
        "a=one.txt,b.c={one.txt,two.txt},d[1]=two.txt",
        Scalars::FileContents(&mut read),
    );
    assert_eq!(
        tree,
        Ok(json!({"a": "first\n", "b": {"c": ["first\n", "second"]}, "d": [null, "second"]}))
    );
    // As in Helm, an `=` at the very end yields an empty string without reading anything.
    assert_eq!(
        parse_with(json!({}), "a=", Scalars::FileContents(&mut read)),
        Ok(json!({"a": ""}))
    );
    assert_eq!(
        parse_with(
            json!({}),
            "a=one.txt,b.c=missing",
            Scalars::FileContents(&mut read)
        ),
        Err("key \"b.c\": cannot read \"missing\": no file named missing".to_owned())
    );
    assert_eq!(
        parse_with(json!({}), "a={missing}", Scalars::FileContents(&mut read)),
        Err("key \"a\": cannot read \"missing\": no file named missing".to_owned())
    );
}

#[test]
fn empty_keys_are_refused() {
    // Helm silently ignores these; a `--set` that does nothing yet looks accepted is a trap.
    let cases = [
        ("=x", "empty key before \"=\" at character 1"),
        ("=", "empty key before \"=\" at character 1"),
        ("==x", "empty key before \"=\" at character 1"),
        ("a=1,=x", "empty key before \"=\" at character 5"),
        (".a=x", "empty key before \".\" at character 1"),
        ("[0]=x", "empty key before \"[\" at character 1"),
        ("a..b=x", "key \"a\": empty key before \".\" at character 3"),
        ("a.=x", "key \"a\": empty key before \"=\" at character 3"),
        (
            "a.[0]=x",
            "key \"a\": empty key before \"[\" at character 3",
        ),
        (
            "a[0].=x",
            "key \"a[0]\": empty key before \"=\" at character 6",
        ),
        (
            "a.b.=x",
            "key \"a.b\": empty key before \"=\" at character 5",
        ),
    ];
    let mut read = |name: &str| Ok(format!("content of {name}"));
    for (arg, expected) in cases {
        let outcomes = [
            ("--set", parse_with(json!({}), arg, Scalars::Typed)),
            ("--set-string", parse_with(json!({}), arg, Scalars::Strings)),
            ("--set-json", parse_with(json!({}), arg, Scalars::Json)),
            (
                "--set-file",
                parse_with(json!({}), arg, Scalars::FileContents(&mut read)),
            ),
        ];
        for (flag, outcome) in outcomes {
            assert_eq!(outcome, Err(expected.to_owned()), "{flag} {arg}");
        }
    }
    // A key whose name is only blank is a name, as in Helm; an escaped `=` is part of one.
    assert_eq!(typed(" =x"), Ok(json!({" ": "x"})));
    assert_eq!(typed("\\==x"), Ok(json!({"=": "x"})));
}

#[test]
fn failed_parse_reports_typed_error() {
    let mut dest = Map::new();
    let err = parse_into("a[-1]=x", &mut dest, Scalars::Typed).expect_err("negative index");
    assert_eq!(
        err,
        ParseError::NegativeIndex {
            key: KeyPath::root().key("a"),
            index: -1
        }
    );
}
