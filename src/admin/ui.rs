//! The console's building blocks. Every console page is a [`Page`] of [`Block`]s — facts, tables,
//! forms, notices — rendered by one template, so every field gets a label, every error sits next
//! to its field, and every form carries the CSRF token, without each page repeating the markup.

use askama::Template;

use super::form::FormData;

/// One console page.
#[derive(Template)]
#[template(path = "admin/page.html")]
pub struct Page {
    pub title: String,
    /// Navigation entries for the signed-in user's roles; empty on the sign-in page.
    pub nav: Vec<Link>,
    /// Signed-in user's display name; empty when signed out.
    pub user: String,
    pub logout_csrf: String,
    pub crumbs: Vec<Link>,
    pub blocks: Vec<Block>,
}

#[derive(Clone)]
pub struct Link {
    pub href: String,
    pub label: String,
}

impl Link {
    pub fn new(href: impl Into<String>, label: impl Into<String>) -> Self {
        Link {
            href: href.into(),
            label: label.into(),
        }
    }
}

pub enum Block {
    Heading(String),
    Text(String),
    /// `info`, `ok`, `warn` or `error`.
    Notice(&'static str, String),
    Facts(Vec<(String, String)>),
    Table(Table),
    Form(Form),
    /// Forms shown side by side, e.g. the state transitions a user may make.
    Buttons(Vec<Form>),
    Links(Vec<Link>),
    /// HTML the server made safe (sanitised Markdown, the summary's own rendering).
    Html(String),
    Image {
        src: String,
        alt: String,
    },
    /// Two versions side by side, for an edit conflict.
    Compare(Compare),
}

pub struct Compare {
    pub left_title: String,
    pub right_title: String,
    pub rows: Vec<(String, String, String)>,
}

pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: String,
}

impl Table {
    pub fn new(caption: &str, headers: &[&str], empty: &str) -> Self {
        Table {
            caption: caption.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            empty: empty.into(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }
}

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            href: None,
        }
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            href: Some(href.into()),
        }
    }
}

/// A form. `POST` forms get the CSRF token as a hidden field.
pub struct Form {
    pub action: String,
    pub post: bool,
    pub multipart: bool,
    pub csrf: String,
    pub hidden: Vec<(String, String)>,
    pub groups: Vec<Group>,
    pub submit: String,
    /// `primary`, `plain` or `danger`.
    pub style: &'static str,
    /// A form-level error, shown above the fields.
    pub error: Option<String>,
    /// A second button sending the same fields elsewhere: `(label, formaction)`, e.g. 预览.
    pub secondary: Option<(String, String)>,
}

/// Fields under one heading (a `<fieldset>` with a `<legend>` when it has one).
pub struct Group {
    pub legend: String,
    pub fields: Vec<Field>,
}

pub struct Field {
    pub name: String,
    /// Makes the element id unique when one page holds several forms with the same field name.
    pub id_scope: String,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub hint: String,
    pub error: Option<String>,
    pub required: bool,
    pub options: Vec<Choice>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Textarea,
    Number,
    Date,
    Password,
    Select,
    /// Several checkboxes sharing a name (the options).
    Checkboxes,
    /// One checkbox; checked when `value` is `"on"`.
    Checkbox,
    File,
}

impl Field {
    pub fn new(name: &str, label: &str, kind: Kind) -> Self {
        Field {
            name: name.into(),
            id_scope: String::new(),
            label: label.into(),
            kind,
            value: String::new(),
            hint: String::new(),
            error: None,
            required: false,
            options: Vec::new(),
        }
    }

    pub fn text(name: &str, label: &str) -> Self {
        Field::new(name, label, Kind::Text)
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: &str) -> Self {
        self.hint = hint.into();
        self
    }

    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }

    /// Options for a select or checkbox list; those in `selected` are marked.
    pub fn options<I, V, L>(mut self, options: I, selected: &[String]) -> Self
    where
        I: IntoIterator<Item = (V, L)>,
        V: Into<String>,
        L: Into<String>,
    {
        self.options = options
            .into_iter()
            .map(|(v, l)| {
                let value = v.into();
                Choice {
                    selected: selected.contains(&value),
                    value,
                    label: l.into(),
                }
            })
            .collect();
        self
    }

    pub fn is_checked(&self) -> bool {
        self.value == "on"
    }

    pub fn id(&self) -> String {
        let name = self.name.replace(['[', ']', '.'], "-");
        if self.id_scope.is_empty() {
            format!("f-{name}")
        } else {
            format!("f-{}-{name}", self.id_scope)
        }
    }

    /// The ids of the hint and the error that describe the input, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.id()));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id()));
        }
        ids.join(" ")
    }
}

impl Form {
    pub fn post(action: impl Into<String>, csrf: &str, submit: &str) -> Self {
        Form {
            action: action.into(),
            post: true,
            multipart: false,
            csrf: csrf.into(),
            hidden: Vec::new(),
            groups: Vec::new(),
            submit: submit.into(),
            style: "primary",
            error: None,
            secondary: None,
        }
    }

    pub fn get(action: impl Into<String>, submit: &str) -> Self {
        Form {
            post: false,
            csrf: String::new(),
            style: "plain",
            ..Form::post(action, "", submit)
        }
    }

    /// A one-button form (a state transition, a withdrawal).
    pub fn button(action: impl Into<String>, csrf: &str, label: &str, style: &'static str) -> Self {
        Form {
            style,
            ..Form::post(action, csrf, label)
        }
    }

    /// Give this form's element ids their own prefix (for pages with several similar forms).
    pub fn scoped(mut self, scope: &str) -> Self {
        for field in self.groups.iter_mut().flat_map(|g| g.fields.iter_mut()) {
            field.id_scope = scope.to_string();
        }
        self
    }

    pub fn hidden(mut self, name: &str, value: impl Into<String>) -> Self {
        self.hidden.push((name.into(), value.into()));
        self
    }

    pub fn group(mut self, legend: &str, fields: Vec<Field>) -> Self {
        self.groups.push(Group {
            legend: legend.into(),
            fields,
        });
        self
    }

    pub fn secondary(mut self, label: &str, action: impl Into<String>) -> Self {
        self.secondary = Some((label.into(), action.into()));
        self
    }

    pub fn multipart(mut self) -> Self {
        self.multipart = true;
        self
    }

    /// Fill every field from what was submitted (so nothing typed is lost) and put each error
    /// next to its field; errors for fields the form does not show go above the form.
    pub fn refill(mut self, submitted: &FormData, errors: &[(String, String)]) -> Self {
        let mut unplaced = Vec::new();
        for group in &mut self.groups {
            for field in &mut group.fields {
                match field.kind {
                    Kind::File | Kind::Password => {}
                    Kind::Checkboxes => {
                        let chosen = submitted.all(&field.name);
                        for option in &mut field.options {
                            option.selected = chosen.contains(&option.value.as_str());
                        }
                    }
                    Kind::Select => {
                        let chosen = submitted.get(&field.name);
                        for option in &mut field.options {
                            option.selected = option.value == chosen;
                        }
                        field.value = chosen.to_string();
                    }
                    Kind::Checkbox => {
                        field.value = if submitted.get(&field.name) == "on" {
                            "on".into()
                        } else {
                            String::new()
                        }
                    }
                    _ => field.value = submitted.get(&field.name).to_string(),
                }
            }
        }
        for (name, message) in errors {
            let field = self
                .groups
                .iter_mut()
                .flat_map(|g| g.fields.iter_mut())
                .find(|f| &f.name == name);
            match field {
                Some(f) => {
                    f.error = Some(match f.error.take() {
                        Some(prev) => format!("{prev}；{message}"),
                        None => message.clone(),
                    })
                }
                None => unplaced.push(message.clone()),
            }
        }
        if !unplaced.is_empty() {
            self.error = Some(unplaced.join("；"));
        }
        self
    }

    /// An error above the form.
    pub fn with_error(mut self, message: impl Into<String>) -> Self {
        self.error = Some(message.into());
        self
    }
}
