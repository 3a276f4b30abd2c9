<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB" sourcelanguage="zh_CN">
<context>
    <name>tcm</name>
    <message>
        <source>Alt+键 改类别</source>
        <translation>Alt+key changes the category</translation>
    </message>
    <message>
        <source>✓ 未发现照片与病历舌象描述不一致之处</source>
        <translation>✓ The photo agrees with the record's tongue description (no disagreement found)</translation>
    </message>
    <message>
        <source>中医病历结构化</source>
        <translation>TCM Record Structurer</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>偏暗/红</source>
        <translation>dark/red</translation>
    </message>
    <message>
        <source>全部确认</source>
        <translation>Accept all</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>关闭摄像头</source>
        <translation>Stop camera</translation>
    </message>
    <message>
        <source>分析</source>
        <translation>Analyse</translation>
    </message>
    <message>
        <source>分析失败：</source>
        <translation>Analysis failed: </translation>
    </message>
    <message>
        <source>分析完成：%n 个实体</source>
        <translation>Analysis done: %n entities</translation>
    </message>
    <message>
        <source>分段</source>
        <translation>Sections</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>删除实体</source>
        <translation>Delete entity</translation>
    </message>
    <message>
        <source>剂数</source>
        <translation>Doses</translation>
    </message>
    <message>
        <source>剂量</source>
        <translation>Dose</translation>
    </message>
    <message>
        <source>剪贴板中没有图片</source>
        <translation>No image on the clipboard</translation>
    </message>
    <message>
        <source>包含 .txt 或 .jsonl 病历的文件夹</source>
        <translation>Folder with .txt or .jsonl records</translation>
    </message>
    <message>
        <source>医师姓名</source>
        <translation>Doctor's name</translation>
    </message>
    <message>
        <source>历史记录</source>
        <translation>History</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>右端收缩</source>
        <translation>Narrow right end</translation>
    </message>
    <message>
        <source>向右扩展</source>
        <translation>Widen right</translation>
    </message>
    <message>
        <source>向左扩展</source>
        <translation>Widen left</translation>
    </message>
    <message>
        <source>否定</source>
        <translation>Absent</translation>
    </message>
    <message>
        <source>在光标处（或舌脉一栏、病历末尾）插入建议的舌象描述</source>
        <translation>Insert the suggested tongue description at the cursor (or after the tongue/pulse heading, or at the end of the record)</translation>
    </message>
    <message>
        <source>在此输入或粘贴病历，按 Ctrl+Enter 分析</source>
        <translation>Type or paste a record here, press Ctrl+Enter to analyse</translation>
    </message>
    <message>
        <source>处方</source>
        <translation>Prescription</translation>
    </message>
    <message>
        <source>完成：已保存 %1 / %2 条</source>
        <translation>Done: saved %1 / %2 records</translation>
    </message>
    <message>
        <source>实体</source>
        <translation>Entities</translation>
    </message>
    <message>
        <source>实体 %1 · 未审核 %2 · 已确认 %3 · 已修改 %4 · 新增 %5</source>
        <translation>Entities %1 · unreviewed %2 · accepted %3 · corrected %4 · added %5</translation>
    </message>
    <message>
        <source>实体数</source>
        <translation>Entities</translation>
    </message>
    <message>
        <source>实时预览中：对准舌面后点击“拍照”</source>
        <translation>Live preview: aim at the tongue, then click “Capture”</translation>
    </message>
    <message>
        <source>审核</source>
        <translation>Review</translation>
    </message>
    <message>
        <source>导入失败：</source>
        <translation>Import failed: </translation>
    </message>
    <message>
        <source>导出 CSV</source>
        <translation>Export CSV</translation>
    </message>
    <message>
        <source>导出 JSON</source>
        <translation>Export JSON</translation>
    </message>
    <message>
        <source>导出 PDF</source>
        <translation>Export PDF</translation>
    </message>
    <message>
        <source>导出失败：</source>
        <translation>Export failed: </translation>
    </message>
    <message>
        <source>尚无实体：请先分析病历</source>
        <translation>No entities yet: analyse the record first</translation>
    </message>
    <message>
        <source>工具栏</source>
        <translation>Toolbar</translation>
    </message>
    <message>
        <source>左端收缩</source>
        <translation>Narrow left end</translation>
    </message>
    <message>
        <source>已保存 %1 / %2</source>
        <translation>Saved %1 / %2</translation>
    </message>
    <message>
        <source>已保存（第 %n 版）</source>
        <translation>Saved (version %n)</translation>
    </message>
    <message>
        <source>已修改</source>
        <translation>corrected</translation>
    </message>
    <message>
        <source>已取消分析</source>
        <translation>Analysis cancelled</translation>
    </message>
    <message>
        <source>已取消：已保存 %1 / %2 条</source>
        <translation>Cancelled: saved %1 / %2 records</translation>
    </message>
    <message>
        <source>已导出：</source>
        <translation>Exported: </translation>
    </message>
    <message>
        <source>已恢复上次未保存的草稿（%1）</source>
        <translation>Restored the unsaved draft from last time (%1)</translation>
    </message>
    <message>
        <source>已恢复该记录未保存的修改（%1）</source>
        <translation>Restored unsaved changes of this record (%1)</translation>
    </message>
    <message>
        <source>已拍照</source>
        <translation>Photo taken</translation>
    </message>
    <message>
        <source>已插入</source>
        <translation>Inserted</translation>
    </message>
    <message>
        <source>已插入舌象描述（Ctrl+Z 撤销）；重新分析后会与照片核对</source>
        <translation>Tongue description inserted (Ctrl+Z undoes it); analyse the record again to check it against the photo</translation>
    </message>
    <message>
        <source>已确认</source>
        <translation>accepted</translation>
    </message>
    <message>
        <source>开始</source>
        <translation>Start</translation>
    </message>
    <message>
        <source>患者</source>
        <translation>Patient</translation>
    </message>
    <message>
        <source>患者姓名（可选）</source>
        <translation>Patient name (optional)</translation>
    </message>
    <message>
        <source>患者：</source>
        <translation>Patient:</translation>
    </message>
    <message>
        <source>所见</source>
        <translation>Findings</translation>
    </message>
    <message>
        <source>打开摄像头</source>
        <translation>Start camera</translation>
    </message>
    <message>
        <source>批量导入</source>
        <translation>Batch import</translation>
    </message>
    <message>
        <source>批量导入…</source>
        <translation>Batch import…</translation>
    </message>
    <message>
        <source>拍照</source>
        <translation>Capture</translation>
    </message>
    <message>
        <source>拖入、粘贴或选择一张舌象照片</source>
        <translation>Drop, paste or choose a tongue photo</translation>
    </message>
    <message>
        <source>插入病历</source>
        <translation>Insert into record</translation>
    </message>
    <message>
        <source>搜索病历全文，如：胃脘胀痛、柴胡</source>
        <translation>Search the full text, e.g. 胃脘胀痛, 柴胡</translation>
    </message>
    <message>
        <source>摄像头 %1</source>
        <translation>Camera %1</translation>
    </message>
    <message>
        <source>摘要</source>
        <translation>Excerpt</translation>
    </message>
    <message>
        <source>撤销</source>
        <translation>Undo</translation>
    </message>
    <message>
        <source>文件</source>
        <translation>File</translation>
    </message>
    <message>
        <source>文件夹不存在</source>
        <translation>The folder does not exist</translation>
    </message>
    <message>
        <source>断言</source>
        <translation>Assertion</translation>
    </message>
    <message>
        <source>新增</source>
        <translation>added</translation>
    </message>
    <message>
        <source>新建</source>
        <translation>New</translation>
    </message>
    <message>
        <source>新病历</source>
        <translation>New record</translation>
    </message>
    <message>
        <source>方剂</source>
        <translation>Formula</translation>
    </message>
    <message>
        <source>无法读取该图片</source>
        <translation>Cannot read this image</translation>
    </message>
    <message>
        <source>无法读取该图片：</source>
        <translation>Cannot read the image: </translation>
    </message>
    <message>
        <source>无裂纹</source>
        <translation>no fissures</translation>
    </message>
    <message>
        <source>无齿痕</source>
        <translation>no tooth marks</translation>
    </message>
    <message>
        <source>更改类别</source>
        <translation>Change category</translation>
    </message>
    <message>
        <source>更新时间</source>
        <translation>Updated</translation>
    </message>
    <message>
        <source>有裂纹</source>
        <translation>fissured</translation>
    </message>
    <message>
        <source>未审核</source>
        <translation>unreviewed</translation>
    </message>
    <message>
        <source>未检测到可用的摄像头，请检查连接或选择其他设备。</source>
        <translation>No working camera found; check the connection or choose another device.</translation>
    </message>
    <message>
        <source>未评估</source>
        <translation>not assessed</translation>
    </message>
    <message>
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <source>模型不可用</source>
        <translation>Model unavailable</translation>
    </message>
    <message>
        <source>模型加载中…</source>
        <translation>Loading model…</translation>
    </message>
    <message>
        <source>模型加载失败：</source>
        <translation>Model failed to load: </translation>
    </message>
    <message>
        <source>模型尚未加载完成，请稍候</source>
        <translation>The model is still loading, please wait</translation>
    </message>
    <message>
        <source>模型就绪</source>
        <translation>Model ready</translation>
    </message>
    <message>
        <source>正在分析…</source>
        <translation>Analysing…</translation>
    </message>
    <message>
        <source>正在取消…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <source>正在打开摄像头…</source>
        <translation>Opening camera…</translation>
    </message>
    <message>
        <source>浏览…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>润燥</source>
        <translation>Moisture</translation>
    </message>
    <message>
        <source>淡</source>
        <translation>pale</translation>
    </message>
    <message>
        <source>淡红</source>
        <translation>pale red (normal)</translation>
    </message>
    <message>
        <source>淡黄</source>
        <translation>light yellow</translation>
    </message>
    <message>
        <source>添加实体</source>
        <translation>Add entity</translation>
    </message>
    <message>
        <source>照片中未找到舌头。请拍摄伸出的舌面。</source>
        <translation>No tongue found in the photo. Photograph the extended tongue.</translation>
    </message>
    <message>
        <source>照片所见</source>
        <translation>Photo shows</translation>
    </message>
    <message>
        <source>照片所见与病历描述不一致：</source>
        <translation>The photo disagrees with the record:</translation>
    </message>
    <message>
        <source>照片未通过质量检查，未给出舌象结果：</source>
        <translation>The photo did not pass the quality check; no tongue findings:</translation>
    </message>
    <message>
        <source>照片模糊：请保持相机稳定并对焦舌面。</source>
        <translation>The photo is blurred: hold the camera still and focus on the tongue.</translation>
    </message>
    <message>
        <source>照片过暗：请增加光线。</source>
        <translation>The photo is under-exposed: add light.</translation>
    </message>
    <message>
        <source>照片过曝：舌面发白，请减弱光线或关闭闪光灯。</source>
        <translation>The photo is over-exposed: the tongue is washed out; reduce the light or switch off the flash.</translation>
    </message>
    <message>
        <source>版本</source>
        <translation>Version</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>用法</source>
        <translation>Usage</translation>
    </message>
    <message>
        <source>界面语言将在重新启动后生效</source>
        <translation>The language change takes effect after a restart</translation>
    </message>
    <message>
        <source>病历中没有舌象描述。建议：</source>
        <translation>The record has no tongue description. Suggested: </translation>
    </message>
    <message>
        <source>白</source>
        <translation>white</translation>
    </message>
    <message>
        <source>确认</source>
        <translation>Accept</translation>
    </message>
    <message>
        <source>移除</source>
        <translation>Remove</translation>
    </message>
    <message>
        <source>空白病历无需保存</source>
        <translation>Nothing to save: the record is empty</translation>
    </message>
    <message>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <source>粘贴</source>
        <translation>Paste</translation>
    </message>
    <message>
        <source>结构化</source>
        <translation>Structured</translation>
    </message>
    <message>
        <source>结构化实体</source>
        <translation>Structured entities</translation>
    </message>
    <message>
        <source>编辑改动了 %n 个实体，已移除</source>
        <translation>The edit touched %n entities; they were removed</translation>
    </message>
    <message>
        <source>置信度</source>
        <translation>Score</translation>
    </message>
    <message>
        <source>腻苔</source>
        <translation>Greasiness</translation>
    </message>
    <message>
        <source>舌头在画面中太小：请靠近一些，让舌面占满更多画面。</source>
        <translation>The tongue is too small in the frame: move closer so it fills more of the picture.</translation>
    </message>
    <message>
        <source>舌色</source>
        <translation>Body colour</translation>
    </message>
    <message>
        <source>舌象</source>
        <translation>Tongue</translation>
    </message>
    <message>
        <source>舌象分析不可用：未安装舌象模型（models/tongue）。照片仍会随病历保存。</source>
        <translation>Tongue analysis unavailable: the tongue model (models/tongue) is not installed. The photo is still saved with the record.</translation>
    </message>
    <message>
        <source>舌象分析不可用：舌象模型无法加载。照片仍会随病历保存。</source>
        <translation>Tongue analysis unavailable: the tongue model cannot be loaded. The photo is still saved with the record.</translation>
    </message>
    <message>
        <source>舌象分析结果</source>
        <translation>Tongue analysis</translation>
    </message>
    <message>
        <source>舌象分析：尚无照片</source>
        <translation>Tongue analysis: no photo yet</translation>
    </message>
    <message>
        <source>舌象分析：尚未分析</source>
        <translation>Tongue analysis: not analysed yet</translation>
    </message>
    <message>
        <source>舌象分析：正在分析…</source>
        <translation>Tongue analysis: analysing…</translation>
    </message>
    <message>
        <source>苔色</source>
        <translation>Coating colour</translation>
    </message>
    <message>
        <source>苔质厚薄</source>
        <translation>Coating thickness</translation>
    </message>
    <message>
        <source>药名</source>
        <translation>Herb</translation>
    </message>
    <message>
        <source>裂纹</source>
        <translation>Fissures</translation>
    </message>
    <message>
        <source>裂纹明显</source>
        <translation>marked fissures</translation>
    </message>
    <message>
        <source>规范名</source>
        <translation>Canonical name</translation>
    </message>
    <message>
        <source>设置</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>设置…</source>
        <translation>Settings…</translation>
    </message>
    <message>
        <source>设置断言</source>
        <translation>Set assertion</translation>
    </message>
    <message>
        <source>诊所名称</source>
        <translation>Clinic name</translation>
    </message>
    <message>
        <source>语言</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>请先输入病历文本</source>
        <translation>Type a record first</translation>
    </message>
    <message>
        <source>请先选择一个实体（Tab 键逐个跳转）</source>
        <translation>Select an entity first (Tab moves from entity to entity)</translation>
    </message>
    <message>
        <source>调整边界</source>
        <translation>Adjust boundaries</translation>
    </message>
    <message>
        <source>边有齿痕</source>
        <translation>tooth-marked edges</translation>
    </message>
    <message>
        <source>选择文件夹</source>
        <translation>Choose folder</translation>
    </message>
    <message>
        <source>选择文件夹后点击“开始”</source>
        <translation>Choose a folder, then click “Start”</translation>
    </message>
    <message>
        <source>选择照片…</source>
        <translation>Choose photo…</translation>
    </message>
    <message>
        <source>选择舌象照片</source>
        <translation>Choose a tongue photo</translation>
    </message>
    <message>
        <source>重做</source>
        <translation>Redo</translation>
    </message>
    <message>
        <source>项目</source>
        <translation>Item</translation>
    </message>
    <message>
        <source>黄</source>
        <translation>yellow</translation>
    </message>
    <message>
        <source>黑白照片无法判断舌色和苔色，请使用彩色照片。</source>
        <translation>Tongue and coating colours cannot be judged on a black-and-white photo; use a colour photo.</translation>
    </message>
    <message>
        <source>齿痕</source>
        <translation>Tooth marks</translation>
    </message>
    <message>
        <source>齿痕明显</source>
        <translation>marked tooth marks</translation>
    </message>
    <message>
        <source>（保存的分析结果；舌象模型当前不可用）</source>
        <translation>(saved analysis; the tongue model is not available now)</translation>
    </message>
    <message>
        <source>不加密</source>
        <translation>Don't encrypt</translation>
    </message>
    <message>
        <source>两次输入的口令不一致</source>
        <translation>The two passphrases differ</translation>
    </message>
    <message>
        <source>从不</source>
        <translation>Never</translation>
    </message>
    <message>
        <source>再次输入</source>
        <translation>Repeat</translation>
    </message>
    <message>
        <source>加密</source>
        <translation>Encrypt</translation>
    </message>
    <message>
        <source>加密病历数据库</source>
        <translation>Encrypt the record database</translation>
    </message>
    <message>
        <source>口令</source>
        <translation>Passphrase</translation>
    </message>
    <message>
        <source>口令不正确，请重试</source>
        <translation>Wrong passphrase, try again</translation>
    </message>
    <message>
        <source>口令不正确，请重试：</source>
        <translation>Wrong passphrase, try again:</translation>
    </message>
    <message>
        <source>口令至少需要 8 个字符</source>
        <translation>The passphrase needs at least 8 characters</translation>
    </message>
    <message>
        <source>导出去标识化 JSON（科研）</source>
        <translation>Export de-identified JSON (research)</translation>
    </message>
    <message>
        <source>已锁定</source>
        <translation>Locked</translation>
    </message>
    <message>
        <source>已锁定：输入数据库口令以继续</source>
        <translation>Locked: enter the database passphrase to continue</translation>
    </message>
    <message>
        <source>建议加密：电脑丢失或被他人使用时，病历无法被读取。口令遗失则数据无法恢复。</source>
        <translation>Encryption is recommended: if the PC is lost or used by someone else, the records cannot be read. A lost passphrase cannot be recovered, nor can the data.</translation>
    </message>
    <message>
        <source>数据库口令</source>
        <translation>Database passphrase</translation>
    </message>
    <message>
        <source>病历数据库已加密，请输入口令：</source>
        <translation>The record database is encrypted; enter its passphrase:</translation>
    </message>
    <message>
        <source>空闲自动锁定（分钟，需加密数据库）</source>
        <translation>Lock after idle minutes (encrypted database)</translation>
    </message>
    <message>
        <source>解锁</source>
        <translation>Unlock</translation>
    </message>
    <message>
        <source>与当前病历相似的既往病例（按共同的阳性所见排序，双击打开）</source>
        <translation>Similar past cases (ranked by shared present findings; double-click to open)</translation>
    </message>
    <message>
        <source>仅已审核病历</source>
        <translation>Reviewed records only</translation>
    </message>
    <message>
        <source>以下是本诊所病历的统计结果，只反映既往记录中的共现规律，不是治疗建议。</source>
        <translation>These are statistics of this clinic's own records: they show what went together in past records. They are not treatment advice.</translation>
    </message>
    <message>
        <source>全部类型</source>
        <translation>All kinds</translation>
    </message>
    <message>
        <source>共 {n} 份病历，显示 {k} 条规则</source>
        <translation>{n} records, {k} rules shown</translation>
    </message>
    <message>
        <source>加减</source>
        <translation>Modifications</translation>
    </message>
    <message>
        <source>当前病历没有可比较的阳性所见</source>
        <translation>The open record has no present findings to compare</translation>
    </message>
    <message>
        <source>搜索症状、证候、方剂、中药…</source>
        <translation>Search symptoms, syndromes, formulas, herbs…</translation>
    </message>
    <message>
        <source>最低置信度</source>
        <translation>Min. confidence</translation>
    </message>
    <message>
        <source>最少例数</source>
        <translation>Min. records</translation>
    </message>
    <message>
        <source>查找相似病例</source>
        <translation>Find similar cases</translation>
    </message>
    <message>
        <source>正在统计…</source>
        <translation>Mining…</translation>
    </message>
    <message>
        <source>没有符合条件的规则</source>
        <translation>No rule matches the filters</translation>
    </message>
    <message>
        <source>类型</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>统计失败：</source>
        <translation>Mining failed: </translation>
    </message>
    <message>
        <source>置信度最高的规则（条形长度 = 置信度，括号内为例数）</source>
        <translation>Strongest rules (bar length = confidence, records in brackets)</translation>
    </message>
    <message>
        <source>诊所统计</source>
        <translation>Clinic insights</translation>
    </message>
    <message>
        <source>诊所统计…</source>
        <translation>Clinic insights…</translation>
    </message>
    <message>
        <source>该规则所依据的病历（双击打开）</source>
        <translation>Records behind the rule (double-click to open)</translation>
    </message>
    <message>
        <source>还没有数据库：请先保存病历</source>
        <translation>No database yet: save a record first</translation>
    </message>
    <message>
        <source>重新统计</source>
        <translation>Mine again</translation>
    </message>
    <message>
        <source>症状→证候</source>
        <translation>Findings → syndrome</translation>
    </message>
    <message>
        <source>证候→方剂/治法</source>
        <translation>Syndrome → formula/treatment</translation>
    </message>
    <message>
        <source>方剂↔中药</source>
        <translation>Formula ↔ herb</translation>
    </message>
    <message>
        <source>症状→中医病名</source>
        <translation>Findings → TCM disease</translation>
    </message>
    <message>
        <source>前件</source>
        <translation>If</translation>
    </message>
    <message>
        <source>后件</source>
        <translation>Then</translation>
    </message>
    <message>
        <source>例数</source>
        <translation>Records</translation>
    </message>
    <message>
        <source>支持度</source>
        <translation>Support</translation>
    </message>
    <message>
        <source>提升度</source>
        <translation>Lift</translation>
    </message>
    <message>
        <source>%n 条已在库中，未重复保存</source>
        <translation>%n already in the database, not saved again</translation>
    </message>
    <message>
        <source>保存失败：</source>
        <translation>Save failed: </translation>
    </message>
    <message>
        <source>审核记录</source>
        <translation>Audit trail</translation>
    </message>
    <message>
        <source>恢复最近的备份</source>
        <translation>Restore the latest backup</translation>
    </message>
    <message>
        <source>打开其他文件…</source>
        <translation>Open another file…</translation>
    </message>
    <message>
        <source>损坏的文件会被保留，不会删除。</source>
        <translation>The damaged file is kept, never deleted.</translation>
    </message>
    <message>
        <source>数据库无法打开</source>
        <translation>Database cannot be opened</translation>
    </message>
    <message>
        <source>数据库正被其他程序占用，记录尚未保存；将每秒自动重试，请勿关闭窗口。</source>
        <translation>The database is in use by another program; the record is not saved yet. Retrying every second — please keep the window open.</translation>
    </message>
    <message>
        <source>新建数据库</source>
        <translation>Start a new database</translation>
    </message>
    <message>
        <source>无</source>
        <translation>none</translation>
    </message>
    <message>
        <source>无法打开记录：</source>
        <translation>Cannot open the record: </translation>
    </message>
    <message>
        <source>最近的备份：</source>
        <translation>Latest backup: </translation>
    </message>
    <message>
        <source>未能导入：</source>
        <translation>Not imported:</translation>
    </message>
    <message>
        <source>来源</source>
        <translation>Source</translation>
    </message>
    <message>
        <source>病历数据库无法打开：</source>
        <translation>The record database cannot be opened:</translation>
    </message>
    <message>
        <source>第 %n 版</source>
        <translation>version %n</translation>
    </message>
    <message>
        <source>退出</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>删除记录…</source>
        <translation>Delete record…</translation>
    </message>
    <message>
        <source>永久删除该记录的所有版本、实体、草稿和仅属于它的照片？此操作无法撤销。</source>
        <translation>Permanently delete every version, entity and draft of this record and the photos only it uses? This cannot be undone.</translation>
    </message>
    <message>
        <source>删除失败：</source>
        <translation>Delete failed: </translation>
    </message>
    <message>
        <source> 页</source>
        <translation> </translation>
    </message>
    <message>
        <source>第 </source>
        <translation>Page </translation>
    </message>
    <message>
        <source>从图片/PDF读取病历</source>
        <translation>Read a record from an image or PDF</translation>
    </message>
    <message>
        <source>从图片/PDF读取病历…</source>
        <translation>Read a record from an image or PDF…</translation>
    </message>
    <message>
        <source>剪贴板中没有图片。</source>
        <translation>There is no image on the clipboard.</translation>
    </message>
    <message>
        <source>剪贴板图片</source>
        <translation>clipboard image</translation>
    </message>
    <message>
        <source>实时预览中：让整页充满画面、光线均匀，然后点击“拍照识别”</source>
        <translation>Live preview: fill the frame with the page in even light, then click &quot;Capture and read&quot;</translation>
    </message>
    <message>
        <source>已识别 %p 页，平均置信度 %c；橙框为低置信度字符，请核对。</source>
        <translation>Read %p page(s), mean confidence %c; characters in orange boxes are uncertain, please check them.</translation>
    </message>
    <message>
        <source>已读入纸质病历；请核对橙框标出的低置信度字符</source>
        <translation>Paper record read; please check the uncertain characters marked in orange</translation>
    </message>
    <message>
        <source>打开图片/PDF…</source>
        <translation>Open image/PDF…</translation>
    </message>
    <message>
        <source>拍照或扫描的纸质病历：打开、拖入或粘贴图片/PDF，离线识别后放入编辑器。</source>
        <translation>A photographed or scanned paper record: open, drop or paste an image/PDF; it is read offline and put into the editor.</translation>
    </message>
    <message>
        <source>拍照识别</source>
        <translation>Capture and read</translation>
    </message>
    <message>
        <source>摄像头拍照</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>摄像头照片</source>
        <translation>camera photo</translation>
    </message>
    <message>
        <source>正在识别…</source>
        <translation>Reading…</translation>
    </message>
    <message>
        <source>没有纠错建议</source>
        <translation>No correction proposed</translation>
    </message>
    <message>
        <source>粘贴图片</source>
        <translation>Paste image</translation>
    </message>
    <message>
        <source>纸质病历</source>
        <translation>Paper</translation>
    </message>
    <message>
        <source>识别纠错建议（取消勾选即撤销）：</source>
        <translation>Proposed corrections (uncheck to undo):</translation>
    </message>
    <message>
        <source>识别置信度过低，文本可能不可用：本功能不支持手写病历，请核对或手动录入。</source>
        <translation>The recognition confidence is too low for the text to be useful: handwritten records are not supported; please check the text or type it.</translation>
    </message>
    <message>
        <source>图片或 PDF (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.pdf)</source>
        <translation>Images or PDF (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.pdf)</translation>
    </message>
    <message>
        <source>下一个低置信度实体</source>
        <translation>Next low-confidence entity</translation>
    </message>
    <message>
        <source>下一个待审核病历</source>
        <translation>Next record to review</translation>
    </message>
    <message>
        <source>不是有效的 JSON</source>
        <translation>not valid JSON</translation>
    </message>
    <message>
        <source>与已保存的相同</source>
        <translation>same as the saved record</translation>
    </message>
    <message>
        <source>低置信度</source>
        <translation>Low confidence</translation>
    </message>
    <message>
        <source>全部状态</source>
        <translation>All states</translation>
    </message>
    <message>
        <source>全部类别</source>
        <translation>All categories</translation>
    </message>
    <message>
        <source>共 %1 条：未审核 %2，审核中 %3，已完成 %4</source>
        <translation>%1 records: %2 unreviewed, %3 in review, %4 done</translation>
    </message>
    <message>
        <source>创建时间</source>
        <translation>Created</translation>
    </message>
    <message>
        <source>历史记录与审核队列</source>
        <translation>History and review queue</translation>
    </message>
    <message>
        <source>含低置信度实体</source>
        <translation>With low-confidence entities</translation>
    </message>
    <message>
        <source>审核中</source>
        <translation>in review</translation>
    </message>
    <message>
        <source>已保存</source>
        <translation>saved</translation>
    </message>
    <message>
        <source>已合并到已保存的病历（审核结果保留）</source>
        <translation>merged into the saved record (review kept)</translation>
    </message>
    <message>
        <source>已处理 %1 / %2</source>
        <translation>Processed %1 / %2</translation>
    </message>
    <message>
        <source>已完成</source>
        <translation>done</translation>
    </message>
    <message>
        <source>已审核的病历文本不同，未覆盖</source>
        <translation>reviewed record with a different text: not replaced</translation>
    </message>
    <message>
        <source>已恢复未保存的工作（%1）：保存以保留，或新建时选择不保存</source>
        <translation>Unsaved work restored (%1): save to keep it, or choose Discard when starting a new record</translation>
    </message>
    <message>
        <source>已跳过</source>
        <translation>skipped</translation>
    </message>
    <message>
        <source>所有病历均已审核完毕</source>
        <translation>Every record has been reviewed</translation>
    </message>
    <message>
        <source>打开</source>
        <translation>Open</translation>
    </message>
    <message>
        <source>批量导入更新了此病历（已保留审核结果）；保存前请注意，重新打开可查看新版本</source>
        <translation>The batch import updated this record (review kept); reopen it to see the new version</translation>
    </message>
    <message>
        <source>批量导入更新了此病历，已显示新版本（审核结果已保留）</source>
        <translation>The batch import updated this record; showing the new version (review kept)</translation>
    </message>
    <message>
        <source>排除否定（如“无咳嗽”）</source>
        <translation>Exclude negated (e.g. “no cough”)</translation>
    </message>
    <message>
        <source>新版本（原病历尚未审核）</source>
        <translation>new version (the saved one was not reviewed)</translation>
    </message>
    <message>
        <source>无法读取（不是 UTF-8 文本？）</source>
        <translation>cannot be read (not UTF-8 text?)</translation>
    </message>
    <message>
        <source>日期</source>
        <translation>Dates</translation>
    </message>
    <message>
        <source>未保存的修改</source>
        <translation>Unsaved changes</translation>
    </message>
    <message>
        <source>正在分析第一条病历…</source>
        <translation>Analysing the first record…</translation>
    </message>
    <message>
        <source>没有待审核的低置信度实体</source>
        <translation>No unreviewed low-confidence entity</translation>
    </message>
    <message>
        <source>界面语言已切换</source>
        <translation>Language changed</translation>
    </message>
    <message>
        <source>病历</source>
        <translation>record</translation>
    </message>
    <message>
        <source>病历「%1」有未保存的修改：实体 %2 个，其中已审核 %3 个。离开前是否保存？</source>
        <translation>Record “%1” has unsaved changes: %2 entities, %3 of them reviewed. Save before leaving?</translation>
    </message>
    <message>
        <source>空文件</source>
        <translation>empty file</translation>
    </message>
    <message>
        <source>编辑改动了 %n 个实体，已移除（Ctrl+Z 恢复）</source>
        <translation>The edit touched %n entities; they were removed (Ctrl+Z restores them)</translation>
    </message>
    <message>
        <source>编辑文本</source>
        <translation>Edit text</translation>
    </message>
    <message>
        <source>缺少 text 或为空</source>
        <translation>no text, or empty</translation>
    </message>
    <message>
        <source>输入</source>
        <translation>Typing</translation>
    </message>
    <message>
        <source>进度</source>
        <translation>Progress</translation>
    </message>
    <message>
        <source>重新分析</source>
        <translation>Re-analyse</translation>
    </message>
    <message>
        <source>重新分析完成：保留 %1 个已审核实体，%2 个待审核建议（Ctrl+Z 撤销）</source>
        <translation>Re-analysed: %1 reviewed entities kept, %2 suggestions to review (Ctrl+Z undoes)</translation>
    </message>
    <message>
        <source>错误</source>
        <translation>error</translation>
    </message>
    <message>
        <source>；跳过 %1 条，错误 %2 处</source>
        <translation>; %1 skipped, %2 errors</translation>
    </message>
    <message>
        <source>不保存</source>
        <translation>Discard</translation>
    </message>
    <message>
        <source>无法读取该图片：文件不完整、已损坏或不是图片。</source>
        <translation>Cannot read this image: the file is incomplete, damaged or not an image.</translation>
    </message>
    <message>
        <source>没有第 %1 个实体</source>
        <translation>There is no entity #%1</translation>
    </message>
    <message>
        <source>未知类别 %1</source>
        <translation>Unknown category %1</translation>
    </message>
    <message>
        <source>未知断言 %1</source>
        <translation>Unknown assertion %1</translation>
    </message>
    <message>
        <source>选区为空：请先选中要标注的文字</source>
        <translation>Empty selection: select the words of the finding first</translation>
    </message>
    <message>
        <source>与「%1」（%2）重叠；请先修改或删除该实体</source>
        <translation>Overlaps “%1” (%2); change or delete that entity first</translation>
    </message>
    <message>
        <source>实体不能为空，也不能超出文本</source>
        <translation>An entity cannot be empty or leave the text</translation>
    </message>
    <message>
        <source>会与「%1」重叠</source>
        <translation>Would overlap “%1”</translation>
    </message>
    <message>
        <source>实体的边界不能是标点或空白</source>
        <translation>An entity cannot begin or end with punctuation or a space</translation>
    </message>
    <message>
        <source>实体不能跨越标点</source>
        <translation>An entity cannot cross punctuation</translation>
    </message>
    <message>
        <source>分析结果对应的文本已改变，请重新分析</source>
        <translation>The text changed since this analysis; analyse again</translation>
    </message>
    <message>
        <source>模型…</source>
        <translation>Models…</translation>
    </message>
    <message>
        <source>模型</source>
        <translation>Models</translation>
    </message>
    <message>
        <source>使用此模型</source>
        <translation>Use this model</translation>
    </message>
    <message>
        <source>用我的审核结果改进模型</source>
        <translation>Improve the model from my corrections</translation>
    </message>
    <message>
        <source>取消训练</source>
        <translation>Cancel training</translation>
    </message>
    <message>
        <source>随附模型</source>
        <translation>Shipped model</translation>
    </message>
    <message>
        <source>（无模型说明）</source>
        <translation>(no model card)</translation>
    </message>
    <message>
        <source>已切换模型：</source>
        <translation>Switched model: </translation>
    </message>
    <message>
        <source>训练已开始…</source>
        <translation>Training started…</translation>
    </message>
    <message>
        <source>训练中</source>
        <translation>Training</translation>
    </message>
    <message>
        <source>新模型已生成，请查看对比后决定是否使用</source>
        <translation>A new model is ready: read the comparison, then decide whether to use it</translation>
    </message>
    <message>
        <source>训练已取消</source>
        <translation>Training cancelled</translation>
    </message>
    <message>
        <source>读取已审核病历</source>
        <translation>Reading reviewed records</translation>
    </message>
    <message>
        <source>准备基础模型</source>
        <translation>Preparing the base model</translation>
    </message>
    <message>
        <source>导出并校验模型</source>
        <translation>Exporting and checking the model</translation>
    </message>
    <message>
        <source>新旧模型对比</source>
        <translation>Comparing old and new model</translation>
    </message>
    <message>
        <source>完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>诊所词典…</source>
        <translation>Clinic dictionary…</translation>
    </message>
    <message>
        <source>诊所词典</source>
        <translation>Clinic dictionary</translation>
    </message>
    <message>
        <source>词条</source>
        <translation>Term</translation>
    </message>
    <message>
        <source>对模型未识别的完全匹配词条提出建议</source>
        <translation>Propose exact matches the model did not find</translation>
    </message>
    <message>
        <source>添加</source>
        <translation>Add</translation>
    </message>
    <message>
        <source>从我的审核结果收集</source>
        <translation>Collect from my corrections</translation>
    </message>
    <message>
        <source>没有可读取的数据库</source>
        <translation>No database to read</translation>
    </message>
    <message>
        <source>新增词条：</source>
        <translation>New terms: </translation>
    </message>
    <message>
        <source>改进模型需要安装训练组件：</source>
        <translation>Improving the model needs the training components:</translation>
    </message>
    <message>
        <source>（已随病历保存）</source>
        <translation> (saved with the record)</translation>
    </message>
</context>
</TS>
