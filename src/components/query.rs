//! Moving the query on a map: a click or a hover picks the patch under the pointer, the arrow keys
//! move it one patch, Home selects the CLS token. Each dispatches `SetQuery` and nothing else.

use web_sys::{HtmlElement, KeyboardEvent, MouseEvent};
use yew::prelude::*;

use crate::store::{Action, Query};

pub struct QueryHandlers {
    pub click: Callback<MouseEvent>,
    pub hover: Callback<MouseEvent>,
    pub keys: Callback<KeyboardEvent>,
}

/// The patch under the pointer, in the reference grid.
fn pick(e: &MouseEvent, grid: usize) -> Query {
    let target: HtmlElement = e.target_unchecked_into();
    let (w, h) = (target.client_width().max(1) as f64, target.client_height().max(1) as f64);
    let col = ((e.offset_x() as f64 / w) * grid as f64).floor().clamp(0.0, grid as f64 - 1.0) as usize;
    let row = ((e.offset_y() as f64 / h) * grid as f64).floor().clamp(0.0, grid as f64 - 1.0) as usize;
    Query::Patch { row, col }
}

/// The query after a key, if the key moves it.
fn key_to_query(e: &KeyboardEvent, grid: usize, query: Query) -> Option<Query> {
    let (dr, dc): (i64, i64) = match e.key().as_str() {
        "ArrowUp" => (-1, 0),
        "ArrowDown" => (1, 0),
        "ArrowLeft" => (0, -1),
        "ArrowRight" => (0, 1),
        "Home" => {
            e.prevent_default();
            return Some(Query::Cls);
        }
        _ => return None,
    };
    e.prevent_default();
    let g = grid as i64;
    let (row, col) = match query {
        Query::Patch { row, col } => (row as i64, col as i64),
        Query::Cls => (g / 2, g / 2),
    };
    Some(Query::Patch { row: (row + dr).clamp(0, g - 1) as usize, col: (col + dc).clamp(0, g - 1) as usize })
}

pub fn query_handlers(grid: usize, query: Query, dispatch: &Callback<Action>) -> QueryHandlers {
    let d = dispatch.clone();
    let click = Callback::from(move |e: MouseEvent| d.emit(Action::SetQuery(pick(&e, grid))));
    let d = dispatch.clone();
    let hover = Callback::from(move |e: MouseEvent| {
        // Only with no button down or with the primary one: a drag paints the query along.
        if e.buttons() <= 1 {
            d.emit(Action::SetQuery(pick(&e, grid)));
        }
    });
    let d = dispatch.clone();
    let keys = Callback::from(move |e: KeyboardEvent| {
        if let Some(q) = key_to_query(&e, grid, query) {
            d.emit(Action::SetQuery(q));
        }
    });
    QueryHandlers { click, hover, keys }
}
