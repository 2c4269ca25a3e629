//! Field-level validation errors: every refusal names the field and says, in Chinese, what is wrong.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `measures[1].value`.
    pub field: String,
    pub message: String,
}

/// One or more invalid fields. Parsing collects them all, so a form can show every problem at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was added, else the collected errors.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}：{}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("；"))
    }
}

/// The one rule for text input: no control characters except tab, line feed and carriage
/// return (a browser's textarea sends CRLF). NUL, U+0001…U+001F and U+007F…U+009F break XML
/// feeds, terminals and log lines and are never meaningful in this registry's text.
pub fn forbidden_char(value: &str) -> Option<char> {
    value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The message for a field holding a control character.
pub fn control_char_message(c: char) -> String {
    format!("不能包含控制字符（U+{:04X}）", c as u32)
}

/// Record an error when `value` holds a control character other than tab or a line break.
pub fn check_plain_text(errors: &mut ValidationErrors, field: &str, value: &str) {
    if let Some(c) = forbidden_char(value) {
        errors.add(field, control_char_message(c));
    }
}

/// The message for a required field left empty (faces may word it their own way, e.g.
/// `请填写姓名`).
pub const EMPTY: &str = "不能为空";

/// Trim a required text field and check its length in characters.
pub fn required_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
    max: usize,
) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.add(field, EMPTY);
    } else if value.chars().count() > max {
        errors.add(field, format!("不能超过 {max} 个字"));
    } else {
        check_plain_text(errors, field, value);
    }
    value.to_string()
}

/// Trim an optional text field; blank becomes `None`.
pub fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.add(field, format!("不能超过 {max} 个字"));
    } else {
        check_plain_text(errors, field, value);
    }
    Some(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_other_than_tab_and_line_breaks_are_refused() {
        for bad in [
            "a\u{0}b",
            "\u{1}",
            "x\u{b}y",
            "\u{1b}[31m",
            "\u{7f}",
            "a\u{85}b",
        ] {
            let mut errors = ValidationErrors::default();
            required_text(&mut errors, "title", bad, 100);
            assert_eq!(errors.0.len(), 1, "{bad:?}");
            assert!(errors.0[0].message.contains("控制字符"), "{bad:?}");
        }
        let mut errors = ValidationErrors::default();
        optional_text(&mut errors, "body", Some("第一段\t缩进\r\n第二段\n"), 100);
        required_text(&mut errors, "title", "楼道里的光 <&> \"引号\" 🌟", 100);
        assert!(errors.is_empty(), "{errors}");
    }
}
