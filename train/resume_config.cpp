#include <stdexcept>

#include "train/trainer.h"

namespace gpt {

TrainConfig resolve_resume_config(const TrainConfig& given_config, const TrainConfig& stored,
                                  const std::function<bool(const std::string&)>& option_given,
                                  std::string* change_log) {
    TrainConfig merged = stored;
    for (const ConfigField& field : config_fields()) {
        if (field.name == "resume" || field.name == "init_from" || !option_given(field.name)) continue;
        const std::string old_value = field.to_toml(stored), new_value = field.to_toml(given_config);
        if (old_value == new_value) continue;
        if (field.shapes_model)
            throw std::invalid_argument("resume: option " + field.name + " = " + new_value +
                                        " differs from the checkpoint's " + old_value +
                                        " and would change the model's shape; start a new run (or --init_from)");
        field.from_text(merged, new_value);
        if (change_log) *change_log += (change_log->empty() ? "" : ", ") + field.name + " " + old_value + " → " + new_value;
    }
    return merged;
}

}  // namespace gpt
