//! The domain's coded enums (`NominationState`, `ObjectionState`, `ConsentScope`) as OpenAPI
//! string enums, so the read models carry the type rather than its code: a face compares
//! `n.state == NominationState::Submitted`, never `"submitted"`. On the wire each is its code,
//! as before; the OpenAPI document lists the codes.
//!
//! The domain stays free of HTTP: these are the `poem_openapi` traits implemented here, for the
//! domain's types, from their `ALL`, `code()` and `FromStr`.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use crate::domain::consent::ConsentScope;
use crate::domain::nomination::{NominationState, ObjectionState};

macro_rules! code_enum {
    ($ty:ty, $name:literal, $description:literal) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Reference($name.to_string())
            }

            fn register(registry: &mut Registry) {
                registry.create_schema::<Self, _>($name.to_string(), |_| MetaSchema {
                    description: Some($description),
                    enum_items: <$ty>::ALL
                        .iter()
                        .map(|v| Value::String(v.code().to_string()))
                        .collect(),
                    ..MetaSchema::new("string")
                });
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl ParseFromJSON for $ty {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value {
                    Some(Value::String(code)) => code
                        .parse()
                        .map_err(|_| ParseError::custom(format!("unknown value `{code}`"))),
                    other => Err(ParseError::expected_type(other.unwrap_or_default())),
                }
            }
        }

        impl ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.code().to_string()))
            }
        }
    };
}

code_enum!(
    NominationState,
    "NominationState",
    "A nomination's state: draft → submitted → in_review → public_notice → approved → recognised; rejected and withdrawn end it."
);
code_enum!(
    ObjectionState,
    "ObjectionState",
    "An objection's state: open → investigating → upheld or dismissed."
);
code_enum!(
    ConsentScope,
    "ConsentScope",
    "What a consent covers: `profile` (public profile and search), `photo` (portrait photos), `story` (appearing in stories)."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_goes_out_and_comes_back_as_itself() {
        for state in NominationState::ALL {
            let json = state.to_json().unwrap();
            assert_eq!(json, Value::String(state.code().into()));
            assert_eq!(NominationState::parse_from_json(Some(json)).unwrap(), state);
        }
        for state in ObjectionState::ALL {
            let json = state.to_json().unwrap();
            assert_eq!(ObjectionState::parse_from_json(Some(json)).unwrap(), state);
        }
        for scope in ConsentScope::ALL {
            let json = scope.to_json().unwrap();
            assert_eq!(ConsentScope::parse_from_json(Some(json)).unwrap(), scope);
        }
    }

    #[test]
    fn unknown_codes_and_other_types_are_refused() {
        assert!(NominationState::parse_from_json(Some(Value::String("done".into()))).is_err());
        assert!(ConsentScope::parse_from_json(Some(Value::from(1))).is_err());
        assert!(ObjectionState::parse_from_json(None).is_err());
    }
}
