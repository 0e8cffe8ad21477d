// Entry point for both steps: action.yml runs this file as main and as post.
import { isPostStep } from './state.js';
import { main } from './main.js';
import { post } from './post.js';

void (isPostStep() ? post() : main());
