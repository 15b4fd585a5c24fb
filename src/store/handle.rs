//! The store as Yew sees it: [`Store`] wraps the [`State`] for `use_reducer`, queues the reducer's
//! commands for the root to carry out (an effect keyed on [`Store::seq`]), and components reach the
//! dispatcher through a context instead of through the root.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::reducer::reduce;
use super::{Action, Command, State};

pub struct Store {
    pub state: State,
    /// Shared by every version of the store: commands wait here until the root's effect runs them.
    outbox: Rc<RefCell<Vec<Command>>>,
    /// Bumped whenever commands were queued.
    pub seq: u64,
}

impl Store {
    pub fn new(state: State, commands: Vec<Command>) -> Self {
        Self { state, outbox: Rc::new(RefCell::new(commands)), seq: 1 }
    }

    pub fn take_commands(&self) -> Vec<Command> {
        std::mem::take(&mut *self.outbox.borrow_mut())
    }
}

impl Reducible for Store {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        // A hover that stays on its patch changes nothing: no new state, no render.
        if let Action::SetQuery(q) = &action
            && *q == self.state.view.query
        {
            return self;
        }
        let mut state = self.state.clone();
        let commands = reduce(&mut state, action);
        let seq = if commands.is_empty() { self.seq } else { self.seq + 1 };
        self.outbox.borrow_mut().extend(commands);
        Rc::new(Self { state, outbox: self.outbox.clone(), seq })
    }
}

/// What components get from the context: stable across renders, so it never re-renders them.
pub type Dispatch = UseReducerDispatcher<Store>;

/// The store's dispatcher as a callback (the root provides it).
#[hook]
pub fn use_dispatch() -> Callback<Action> {
    let dispatch = use_context::<Dispatch>().expect("the root provides the dispatcher");
    Callback::from(dispatch)
}
