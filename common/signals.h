// Ctrl-C / SIGTERM during training: the first signal asks the loop to finish the current step, write a
// checkpoint and exit (code 130 for SIGINT, 143 for SIGTERM, as shells report them); a second SIGINT
// aborts at once. The handler only sets an atomic flag: everything else happens in the loop.
#pragma once

namespace gpt {

void install_stop_handlers();
void restore_default_handlers();
int stop_signal();  // 0 while no stop was requested, else the signal number
inline bool stop_requested() { return stop_signal() != 0; }

}  // namespace gpt
