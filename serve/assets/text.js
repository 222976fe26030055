// gpt serve's page, its words: headings, leads and the explanation beside each stage of the model, in
// English and Korean. t(key, vars) picks the chosen language (the header's switch, remembered in
// localStorage), falls back to English, and fills {name} from vars. Loaded first.
'use strict';

const TEXT = {
  en: {
    'tab.training': 'Training', 'tab.forward': 'Forward pass', 'tab.backprop': 'Backpropagation',
    'model': 'model',
    // ---- forward view ----
    'prompt.placeholder': 'type a prompt (empty: the model starts from its start token)',
    'h.tokens': 'Tokens', 's.tokens': 'what the model reads: id and bytes of each token. Click a token to follow it through the model.',
    'h.diagram': 'The model', 's.diagram': 'drawn from the checkpoint\'s configuration. Click a stage to see what it computes for the chosen token.',
    'h.bars': 'Next token', 's.bars': 'the prediction after the chosen token. Bars: softmax(logits / temperature), linear; grey: removed by top-k or top-p; after the arrow: the final probability.',
    'h.attention': 'Attention maps', 's.attention': 'one map per layer and head: row i is how token i spreads its attention over tokens j ≤ i. Dark = more. Click a cell to open that head for that token.',
    'h.residual': 'Residual stream', 's.residual': '‖x‖ at each position: after the embeddings, after each block\'s attention (dashed) and MLP (solid)',
    'h.mlp': 'MLP activations', 's.mlp': 'the activation\'s outputs per layer (rows: tokens, columns: hidden units; red positive, blue negative)',
    'h.embeddings': 'Embeddings', 's.embeddings': 'token row of wte + position row of wpe = the first residual stream (rows: tokens, columns: channels)',
    'empty.prompt': 'The prompt is empty: the model starts from its start token alone, so there is nothing to attend to yet. Type some text to see attention between tokens.',
    'legend.diverging': 'blue negative · white 0 · red positive',
    'legend.attention': 'white 0 → dark blue 1 (probability)',
    'chosen': 'chosen token', 'head': 'head', 'layer': 'layer', 'block': 'block',
    // ---- the diagram's stages ----
    'st.embed': 'token embedding', 'st.pos': 'positions', 'st.ln_1': 'norm 1', 'st.attn': 'attention', 'st.add_attn': '+',
    'st.ln_2': 'norm 2', 'st.mlp': 'MLP', 'st.add_mlp': '+', 'st.ln_f': 'final norm', 'st.logits': 'logits',
    'st.sampling': '÷T · top-k · top-p', 'st.probs': 'probabilities',
    // ---- explanations ----
    'x.embed': 'Each token id selects one row of the token embedding table wte [V × C]: C = {C} numbers the model learned for that token.',
    'x.pos.learned': 'A learned position table wpe [block_size × C] adds one row per position, so the same token at two places gives two different vectors. Their sum is the residual stream x₀ that every block reads and adds to.',
    'x.pos.sinusoidal': 'Fixed sine and cosine waves of different frequencies (Vaswani et al. 2017) are added for the position; the token row is first multiplied by √C = {scale} so the waves do not drown it. The sum is the residual stream x₀.',
    'x.pos.rope': 'No position vector is added here: with rotary embeddings (RoPE) each query and key is rotated by an angle proportional to its position inside attention, so q·k depends on how far apart two tokens are. x₀ is the token row itself.',
    'x.norm.layernorm': 'LayerNorm: subtract the vector\'s mean, divide by its standard deviation, then multiply by a learned gain γ and add a learned bias β per channel. Pre-norm: the block normalises what its sub-layer reads; the residual stream itself is left as it is, so its scale can grow (see the residual chart) while each sub-layer sees a steady one.',
    'x.norm.rmsnorm': 'RMSNorm: divide the vector by its root mean square and multiply by a learned gain per channel; no mean is subtracted and there is no bias. Cheaper than LayerNorm and as good in practice. Pre-norm: only what the sub-layer reads is normalised.',
    'x.attn.mha': 'Multi-head attention: {H} heads, each with its own query, key and value of d = {d} numbers.',
    'x.attn.gqa': 'Grouped-query attention: {H} query heads share {Hkv} key/value heads ({group} queries read each k and v), which shrinks the KV cache {group}-fold.',
    'x.attn.mqa': 'Multi-query attention: all {H} query heads share one key and one value head; the KV cache holds one k and one v per token.',
    'x.attn.mla': 'Multi-head latent attention (DeepSeek-V2): each token\'s keys and values are rebuilt from one latent vector c_KV of {dc} numbers, all the KV cache keeps. With RoPE a rotary part of {dR} numbers is appended to q and k, and v is padded with {dR} zeros there.',
    'x.attn.flow': 'For the chosen token and each head: its query is compared with the key of every token up to itself, the scores become weights by softmax, and the head\'s output is the weighted average of those tokens\' values.',
    'x.qkv': 'q, k and v of head {h} for the chosen token: slices of c_attn · ln_1(x){rope}{qknorm}. {share}',
    'x.qkv.rope': ', after the rotary rotation of q and k by the position',
    'x.qkv.qknorm': ', with q and k RMS-normalised per head',
    'x.qkv.share': 'k and v come from key/value head {g}, shared with query heads {peers}.',
    'x.scores': 'Score sⱼ = q · kⱼ / √d for every token j (√d = {sqrt}). Dividing by √d keeps the scores\' spread near 1 whatever d is, so softmax does not saturate.',
    'x.mask': 'Causal mask: tokens after the chosen one are the future; their scores become −∞, so they get weight 0. This lets training score every position of a sequence at once.',
    'x.softmax': 'Softmax: pⱼ = exp(sⱼ) / Σᵢ exp(sᵢ), positive and summing to 1. This row is the chosen token\'s row of the head\'s attention map.',
    'x.weighted': 'The head\'s output is Σⱼ pⱼ vⱼ: the values of the tokens it attends to, averaged with those weights.',
    'x.proj': 'The {H} heads\' outputs are concatenated ({H} × {d}) and mixed by the output projection c_proj into C = {C} numbers, which are added to the residual stream.',
    'x.residual': 'Residual connection: the sub-layer\'s output is added to its input. Each sub-layer only writes a change into the stream, which keeps gradients flowing through a deep stack.',
    'x.mlp.gelu': 'The MLP works on each token alone: c_fc expands C = {C} to D = {D}, GELU keeps positive values and smoothly damps negative ones, and c_proj projects back to C. Most of a block\'s parameters are here.',
    'x.mlp.relu2': 'The MLP works on each token alone: c_fc expands C = {C} to D = {D}, squared ReLU max(0, x)² zeroes negative values and squares the rest, and c_proj projects back to C.',
    'x.mlp.swiglu': 'The MLP works on each token alone: c_fc makes two vectors of D = {D}, a gate a and a value b; SwiGLU outputs SiLU(a) ⊙ b (the gate decides how much of each value passes), and c_proj projects back to C = {C}.',
    'x.ln_f': 'A last {norm} of the final residual stream, before the logits.',
    'x.logits': 'Logits: the normalised vector\'s dot product with one row per vocabulary entry ({head}): V = {V} scores, one per token. They are unnormalised log-probabilities.',
    'x.logits.tied': 'the token embedding wte itself: weight tying',
    'x.logits.untied': 'the output head lm_head',
    'x.sampling': 'Temperature T divides the logits before softmax: T < 1 sharpens the distribution, T > 1 flattens it, T = 0 picks the top token. Top-k keeps the k most probable tokens, top-p the smallest set whose probability reaches p; the rest are removed and the survivors renormalised.',
    'x.probs': 'The final probabilities: what the next token is drawn from (the numbers `gpt sample --show_probs` prints).',
    'x.probs.note': 'Only the 20 most probable tokens after temperature are listed; {kept} token(s) survive the cuts.',
    // ---- stage view labels ----
    'l.token_row': 'token row of wte', 'l.scaled': '× √C', 'l.position_row': '+ position row', 'l.sum': '= x₀ (residual stream)',
    'l.input': 'input x', 'l.output': 'output', 'l.attn_out': 'c_proj(heads)', 'l.mid': 'x + attention',
    'l.fc': 'c_fc', 'l.gate': 'gate a', 'l.value': 'value b', 'l.activation': 'activation', 'l.mlp_out': 'c_proj (MLP output)',
    'l.block_out': 'block output', 'l.scores_table': 'token j · score q·kⱼ/√d · mask · softmax pⱼ',
    'l.values': 'values vⱼ (rows) weighted by pⱼ', 'l.heads_concat': 'heads concatenated',
    'l.latent': 'latent c_KV', 'l.candidates': 'token · logit · logit/T · softmax(·/T) · after top-k · after top-p',
    'l.mean_std': 'mean {mean}, std {std}, rms {rms}',
    'l.masked': 'masked (future)',
    // ---- backprop view ----
    'bp.lead': 'One example on the autograd tape: the prompt\'s tokens up to a position, and the token it should predict next. Forward, cross-entropy, backward: every gradient below is what loss.backward() left behind.',
    'bp.position': 'position', 'bp.target': 'target token', 'bp.run': 'run backward', 'bp.optimizer': 'optimizer', 'bp.lr': 'step size (lr)',
    'bp.step': 'take one step (scratch copy)',
    'h.bp.inputs': 'Gradient w.r.t. each input position\'s embedding', 's.bp.inputs': 'which earlier tokens the prediction depends on; linear bars',
    'h.bp.params': 'Gradient norm per parameter tensor', 's.bp.params': 'attention weights split by head (q, k, v)',
    'h.bp.tape': 'The tape', 's.bp.tape': 'tensors (ellipses) and ops (boxes) from the loss down to the parameters, grouped by block; open a group to draw it',
    // ---- training view ----
    'tr.lead': 'Curves from each run\'s metrics.jsonl, re-read every second while gpt train writes it. The opened run is shown; tick others to overlay them. Hover to read values; drag across a chart to zoom the step axis, double-click to zoom out.',
    'tr.loss': 'loss (solid: train, dashed: validation; grey: ln V, a uniform guess)', 'tr.lr': 'learning rate', 'tr.grad': 'gradient norm (before clipping)',
    'h.tr.grad': 'Gradient flow', 's.tr.grad': '‖∇w‖ per parameter tensor and logged step (the opened run)',
    'h.tr.update': 'Update ratio', 's.tr.update': '‖Δw‖ / ‖w‖ per step: around 1e-3 is the usual rule of thumb',
    'h.tr.samples': 'Samples', 's.tr.samples': 'text the model wrote at each evaluation, newest first',
  },
  ko: {
    'tab.training': '학습', 'tab.forward': '순전파', 'tab.backprop': '역전파',
    'model': '모델',
    'prompt.placeholder': '프롬프트를 입력하세요 (비우면 모델은 시작 토큰에서 출발합니다)',
    'h.tokens': '토큰', 's.tokens': '모델이 읽는 것: 각 토큰의 id와 바이트. 토큰을 클릭하면 그 토큰이 모델을 지나는 과정을 따라갑니다.',
    'h.diagram': '모델 구조', 's.diagram': '체크포인트의 설정에서 그린 그림입니다. 단계를 클릭하면 선택한 토큰에 대해 그 단계가 계산한 값을 보여 줍니다.',
    'h.bars': '다음 토큰', 's.bars': '선택한 토큰 다음에 올 토큰의 예측. 막대: softmax(logits / 온도), 선형 눈금; 회색: top-k 또는 top-p로 제거됨; 화살표 뒤: 최종 확률.',
    'h.attention': '어텐션 맵', 's.attention': '레이어와 헤드마다 하나: i번째 행은 토큰 i가 j ≤ i인 토큰들에 어텐션을 어떻게 나누는지입니다. 진할수록 큽니다. 칸을 클릭하면 그 토큰의 그 헤드를 엽니다.',
    'h.residual': '잔차 스트림', 's.residual': '위치별 ‖x‖: 임베딩 뒤, 각 블록의 어텐션 뒤(점선)와 MLP 뒤(실선)',
    'h.mlp': 'MLP 활성값', 's.mlp': '레이어별 활성화 함수의 출력 (행: 토큰, 열: 은닉 유닛; 빨강 양수, 파랑 음수)',
    'h.embeddings': '임베딩', 's.embeddings': 'wte의 토큰 행 + wpe의 위치 행 = 첫 잔차 스트림 (행: 토큰, 열: 채널)',
    'empty.prompt': '프롬프트가 비어 있습니다: 모델은 시작 토큰 하나에서 출발하므로 아직 주의를 기울일 대상이 없습니다. 텍스트를 입력하면 토큰 사이의 어텐션이 보입니다.',
    'legend.diverging': '파랑 음수 · 흰색 0 · 빨강 양수',
    'legend.attention': '흰색 0 → 진한 파랑 1 (확률)',
    'chosen': '선택한 토큰', 'head': '헤드', 'layer': '레이어', 'block': '블록',
    'st.embed': '토큰 임베딩', 'st.pos': '위치', 'st.ln_1': '정규화 1', 'st.attn': '어텐션', 'st.add_attn': '+',
    'st.ln_2': '정규화 2', 'st.mlp': 'MLP', 'st.add_mlp': '+', 'st.ln_f': '최종 정규화', 'st.logits': '로짓',
    'st.sampling': '÷T · top-k · top-p', 'st.probs': '확률',
    'x.embed': '각 토큰 id는 토큰 임베딩 표 wte [V × C]의 한 행을 고릅니다: 모델이 그 토큰에 대해 학습한 C = {C}개의 수입니다.',
    'x.pos.learned': '학습된 위치 표 wpe [block_size × C]가 위치마다 한 행을 더합니다. 그래서 같은 토큰도 자리가 다르면 다른 벡터가 됩니다. 둘의 합이 잔차 스트림 x₀이며, 모든 블록이 이것을 읽고 여기에 더합니다.',
    'x.pos.sinusoidal': '주파수가 다른 고정된 사인·코사인 파형(Vaswani 외 2017)을 위치에 따라 더합니다. 파형에 묻히지 않도록 토큰 행에는 먼저 √C = {scale}를 곱합니다. 그 합이 잔차 스트림 x₀입니다.',
    'x.pos.rope': '여기서는 위치 벡터를 더하지 않습니다: 회전 위치 임베딩(RoPE)은 어텐션 안에서 쿼리와 키를 위치에 비례하는 각도로 회전시키므로, q·k는 두 토큰 사이의 거리에 따라 달라집니다. x₀은 토큰 행 그대로입니다.',
    'x.norm.layernorm': 'LayerNorm: 벡터의 평균을 빼고 표준편차로 나눈 뒤, 채널마다 학습된 이득 γ를 곱하고 편향 β를 더합니다. Pre-norm 구조: 블록은 하위 층이 읽는 값만 정규화하고 잔차 스트림 자체는 그대로 둡니다. 그래서 스트림의 크기는 커질 수 있어도(잔차 차트 참고) 각 하위 층은 일정한 크기를 봅니다.',
    'x.norm.rmsnorm': 'RMSNorm: 벡터를 제곱평균제곱근으로 나누고 채널마다 학습된 이득을 곱합니다. 평균을 빼지 않고 편향도 없습니다. LayerNorm보다 싸고 실제로는 비슷하게 잘 동작합니다. Pre-norm: 하위 층이 읽는 값만 정규화합니다.',
    'x.attn.mha': '멀티헤드 어텐션: 헤드 {H}개, 각 헤드가 d = {d}개짜리 쿼리·키·값을 따로 가집니다.',
    'x.attn.gqa': '그룹 쿼리 어텐션(GQA): 쿼리 헤드 {H}개가 키/값 헤드 {Hkv}개를 공유합니다(k와 v 하나를 쿼리 {group}개가 읽음). KV 캐시가 {group}분의 1로 줄어듭니다.',
    'x.attn.mqa': '멀티쿼리 어텐션(MQA): 쿼리 헤드 {H}개 모두가 키 하나와 값 하나를 공유합니다. KV 캐시에는 토큰마다 k 하나와 v 하나만 남습니다.',
    'x.attn.mla': '멀티헤드 잠재 어텐션(MLA, DeepSeek-V2): 각 토큰의 키와 값을 {dc}개짜리 잠재 벡터 c_KV 하나에서 다시 만듭니다. KV 캐시에는 이것만 남습니다. RoPE를 쓰면 {dR}개짜리 회전 부분이 q와 k에 덧붙고, 그 자리의 v는 0으로 채워집니다.',
    'x.attn.flow': '선택한 토큰과 각 헤드에 대해: 쿼리를 자기 자신까지의 모든 토큰의 키와 비교하고, 점수를 softmax로 가중치로 바꾼 뒤, 그 토큰들의 값을 가중 평균한 것이 헤드의 출력입니다.',
    'x.qkv': '선택한 토큰의 헤드 {h}의 q, k, v: c_attn · ln_1(x)의 조각{rope}{qknorm}. {share}',
    'x.qkv.rope': ', q와 k는 위치만큼 회전된 뒤',
    'x.qkv.qknorm': ', q와 k는 헤드별로 RMS 정규화됨',
    'x.qkv.share': 'k와 v는 키/값 헤드 {g}의 것이며, 쿼리 헤드 {peers}와 공유합니다.',
    'x.scores': '모든 토큰 j에 대한 점수 sⱼ = q · kⱼ / √d (√d = {sqrt}). √d로 나누면 d가 얼마든 점수의 퍼짐이 1 근처로 유지되어 softmax가 포화되지 않습니다.',
    'x.mask': '인과 마스크: 선택한 토큰 뒤의 토큰은 미래입니다. 그 점수는 −∞가 되어 가중치 0을 받습니다. 덕분에 학습 때 한 시퀀스의 모든 위치를 한 번에 채점할 수 있습니다.',
    'x.softmax': 'Softmax: pⱼ = exp(sⱼ) / Σᵢ exp(sᵢ), 양수이고 합이 1입니다. 이 행이 헤드의 어텐션 맵에서 선택한 토큰의 행입니다.',
    'x.weighted': '헤드의 출력은 Σⱼ pⱼ vⱼ: 주의를 기울인 토큰들의 값을 그 가중치로 평균한 것입니다.',
    'x.proj': '헤드 {H}개의 출력을 이어 붙이고({H} × {d}) 출력 투영 c_proj로 섞어 C = {C}개의 수로 만든 뒤 잔차 스트림에 더합니다.',
    'x.residual': '잔차 연결: 하위 층의 출력을 그 입력에 더합니다. 각 하위 층은 스트림에 변화량만 쓰므로 깊은 층을 지나서도 기울기가 잘 흐릅니다.',
    'x.mlp.gelu': 'MLP는 토큰마다 따로 동작합니다: c_fc가 C = {C}을 D = {D}로 넓히고, GELU가 양수는 살리고 음수는 부드럽게 줄이며, c_proj가 다시 C로 투영합니다. 블록의 매개변수 대부분이 여기에 있습니다.',
    'x.mlp.relu2': 'MLP는 토큰마다 따로 동작합니다: c_fc가 C = {C}을 D = {D}로 넓히고, 제곱 ReLU max(0, x)²가 음수는 0으로 만들고 나머지는 제곱하며, c_proj가 다시 C로 투영합니다.',
    'x.mlp.swiglu': 'MLP는 토큰마다 따로 동작합니다: c_fc가 D = {D}짜리 벡터 두 개, 게이트 a와 값 b를 만들고, SwiGLU는 SiLU(a) ⊙ b를 내놓으며(게이트가 각 값을 얼마나 통과시킬지 정함), c_proj가 다시 C = {C}로 투영합니다.',
    'x.ln_f': '로짓 전에 마지막 잔차 스트림에 적용하는 마지막 {norm}.',
    'x.logits': '로짓: 정규화된 벡터와 어휘의 각 항목 행({head})의 내적입니다. V = {V}개의 점수, 토큰마다 하나이며, 정규화되지 않은 로그 확률입니다.',
    'x.logits.tied': '토큰 임베딩 wte 그 자체: 가중치 공유',
    'x.logits.untied': '출력 헤드 lm_head',
    'x.sampling': '온도 T로 softmax 전에 로짓을 나눕니다: T < 1이면 분포가 뾰족해지고, T > 1이면 평평해지며, T = 0이면 가장 큰 토큰을 고릅니다. Top-k는 확률이 가장 큰 k개만, top-p는 확률 합이 p에 이르는 가장 작은 집합만 남깁니다. 나머지는 제거하고 남은 것을 다시 정규화합니다.',
    'x.probs': '최종 확률: 다음 토큰을 뽑는 분포입니다(`gpt sample --show_probs`가 출력하는 수).',
    'x.probs.note': '온도 적용 후 확률이 가장 큰 20개 토큰만 보입니다. 잘라낸 뒤 남은 토큰: {kept}개.',
    'l.token_row': 'wte의 토큰 행', 'l.scaled': '× √C', 'l.position_row': '+ 위치 행', 'l.sum': '= x₀ (잔차 스트림)',
    'l.input': '입력 x', 'l.output': '출력', 'l.attn_out': 'c_proj(헤드들)', 'l.mid': 'x + 어텐션',
    'l.fc': 'c_fc', 'l.gate': '게이트 a', 'l.value': '값 b', 'l.activation': '활성화', 'l.mlp_out': 'c_proj (MLP 출력)',
    'l.block_out': '블록 출력', 'l.scores_table': '토큰 j · 점수 q·kⱼ/√d · 마스크 · softmax pⱼ',
    'l.values': '값 vⱼ (행)에 pⱼ를 곱해 더함', 'l.heads_concat': '헤드들을 이어 붙인 것',
    'l.latent': '잠재 벡터 c_KV', 'l.candidates': '토큰 · 로짓 · 로짓/T · softmax(·/T) · top-k 후 · top-p 후',
    'l.mean_std': '평균 {mean}, 표준편차 {std}, rms {rms}',
    'l.masked': '마스크됨 (미래)',
    'bp.lead': '자동 미분 테이프 위의 한 예제: 어느 위치까지의 프롬프트 토큰과, 그 다음에 와야 할 토큰. 순전파, 교차 엔트로피, 역전파: 아래의 모든 기울기는 loss.backward()가 남긴 것입니다.',
    'bp.position': '위치', 'bp.target': '목표 토큰', 'bp.run': '역전파 실행', 'bp.optimizer': '옵티마이저', 'bp.lr': '스텝 크기 (lr)',
    'bp.step': '한 스텝 이동 (사본에서)',
    'h.bp.inputs': '각 입력 위치의 임베딩에 대한 기울기', 's.bp.inputs': '예측이 앞의 어느 토큰에 의존하는지; 선형 막대',
    'h.bp.params': '매개변수 텐서별 기울기 노름', 's.bp.params': '어텐션 가중치는 헤드별(q, k, v)로 나눔',
    'h.bp.tape': '테이프', 's.bp.tape': '손실에서 매개변수까지의 텐서(타원)와 연산(상자), 블록별로 묶음; 묶음을 열면 그려집니다',
    'tr.lead': '각 실행의 metrics.jsonl에서 그린 곡선으로, gpt train이 쓰는 동안 매초 다시 읽습니다. 연 실행이 보이며, 다른 실행을 체크하면 겹쳐 그립니다. 마우스를 올리면 값이 보이고, 끌면 스텝 축을 확대, 더블클릭하면 되돌립니다.',
    'tr.loss': '손실 (실선: 학습, 점선: 검증; 회색: ln V, 균등 추측)', 'tr.lr': '학습률', 'tr.grad': '기울기 노름 (클리핑 전)',
    'h.tr.grad': '기울기 흐름', 's.tr.grad': '매개변수 텐서와 기록된 스텝별 ‖∇w‖ (연 실행)',
    'h.tr.update': '갱신 비율', 's.tr.update': '스텝별 ‖Δw‖ / ‖w‖: 1e-3 근처가 흔한 경험칙입니다',
    'h.tr.samples': '샘플', 's.tr.samples': '평가 때마다 모델이 쓴 글, 최신순',
  },
};

const LANG_KEY = 'gpt-serve.lang';
let language = (() => { try { return localStorage.getItem(LANG_KEY) === 'ko' ? 'ko' : 'en'; } catch (e) { return 'en'; } })();

function t(key, vars) {
  let s = (TEXT[language] && TEXT[language][key]) || TEXT.en[key];
  if (s === undefined) return key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split('{' + k + '}').join(String(v));
  return s;
}

// The static words of the page: every element with data-i18n (its text) or data-i18n-placeholder.
function applyLanguage() {
  document.documentElement.lang = language;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
}

function setLanguage(lang) {
  language = lang === 'ko' ? 'ko' : 'en';
  try { localStorage.setItem(LANG_KEY, language); } catch (e) { /* private mode: not remembered */ }
  applyLanguage();
}
