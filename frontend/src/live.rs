//! Reactive view closures behind one boxed type. tachys instantiates its render,
//! attribute, class, style and property code once per closure type; every `move ||` in
//! a view goes through [`live`] instead, so that code exists once per *output* type
//! (a handful) rather than once per closure (dozens), which keeps the wasm small.

use std::sync::{Arc, Mutex};

use leptos::prelude::{AnyView, IntoAny};

/// A boxed reactive closure: tachys' own shared form (`SharedReactiveFunction`), which
/// it renders directly and which needs no `Send`/`Sync` output (views are neither).
pub(crate) type Live<T> = Arc<Mutex<dyn FnMut() -> T + Send>>;

/// Boxes a reactive closure for a view: text, attribute, class, style or property.
pub(crate) fn live<T: 'static>(f: impl FnMut() -> T + Send + 'static) -> Live<T> {
    Arc::new(Mutex::new(f))
}

/// Boxes a reactive closure for a view's content: whatever it shows becomes an
/// [`AnyView`], so all content closures share one render instantiation.
pub(crate) fn shown<V: IntoAny + 'static>(
    mut f: impl FnMut() -> V + Send + 'static,
) -> Live<AnyView> {
    live(move || f().into_any())
}
