// i18n.js - the one translation table of the UI (Vietnamese first, English
// by the switch in the header) and the Vietnamese formats of dates and
// numbers. Add a key to both languages; t() falls back to Vietnamese, then
// to the key itself, so a missing English text shows, never breaks.
const table = {
  vi: {
    app: 'Liên thông', login: 'Đăng nhập', logout: 'Đăng xuất', user: 'Tài khoản',
    password: 'Mật khẩu', login_failed: 'Đăng nhập không thành công',
    dashboard: 'Điều hành', reports: 'Phản ánh', network: 'Mạng lưới', admin: 'Quản trị',
    public_submit: 'Gửi phản ánh', public_track: 'Tra cứu', public_map: 'Bản đồ',
    live_on: 'Trực tuyến', live_off: 'Mất kết nối', lang: 'English',
    received: 'Đã tiếp nhận', processed: 'Đã xử lý', on_time: 'Đúng hạn',
    satisfaction: 'Hài lòng', overdue: 'Quá hạn', total: 'Tổng số', open: 'Đang mở', sync_health: 'Đồng bộ',
    by_child: 'Theo đơn vị', trend: 'Xu hướng', weekly: '8 tuần gần đây', map: 'Bản đồ', no_data: 'Chưa có dữ liệu',
    search: 'Tìm kiếm', status: 'Trạng thái', category: 'Lĩnh vực', unit: 'Đơn vị',
    from: 'Từ ngày', to: 'Đến ngày', all: 'Tất cả', filter: 'Lọc', more: 'Xem thêm',
    code: 'Mã', title: 'Tiêu đề', created: 'Ngày gửi', deadline: 'Hạn xử lý',
    description: 'Nội dung', address: 'Địa chỉ', answer: 'Trả lời', reason: 'Lý do',
    note: 'Ghi chú', history: 'Tiến trình', photos: 'Hình ảnh', actions: 'Xử lý',
    reporter: 'Người phản ánh', owner: 'Đơn vị xử lý', statistics: 'Thống kê',
    not_found: 'Không tìm thấy', forbidden: 'Không có quyền xem', error: 'Lỗi',
    http_400: 'Dữ liệu chưa hợp lệ', http_401: 'Cần đăng nhập', http_403: 'Không có quyền',
    http_404: 'Không tìm thấy', http_409: 'Không thực hiện được ở trạng thái này',
    http_413: 'Dữ liệu gửi lên quá lớn', http_429: 'Quá nhiều yêu cầu, vui lòng thử lại sau',
    http_500: 'Lỗi máy chủ', http_503: 'Máy chủ đang bận, vui lòng thử lại',
    save: 'Lưu', cancel: 'Hủy', delete: 'Xóa', add: 'Thêm', send: 'Gửi', done: 'Đã lưu',
    st_new: 'Mới', st_received: 'Đã tiếp nhận', st_assigned: 'Đã giao', st_in_progress: 'Đang xử lý',
    st_resolved: 'Đã giải quyết', st_closed: 'Đã đóng', st_rejected: 'Từ chối',
    st_duplicate: 'Trùng lặp', st_transferred: 'Chuyển đơn vị', st_reopened: 'Mở lại',
    act_receive: 'Tiếp nhận', act_assign: 'Giao xử lý', act_start: 'Bắt đầu xử lý',
    act_resolve: 'Giải quyết', act_close: 'Đóng', act_reject: 'Từ chối',
    act_duplicate: 'Đánh dấu trùng', act_transfer: 'Chuyển', act_reopen: 'Mở lại',
    act_comment: 'Ghi chú', act_rate: 'Đánh giá', act_escalate: 'Chuyển cấp trên', act_create: 'Gửi phản ánh',
    node: 'Nút', this_node: 'Nút này', state: 'Tình trạng', last_sync: 'Đồng bộ lần cuối', backlog_out: 'Chờ gửi',
    backlog_in: 'Chờ nhận', errors: 'Lỗi', online: 'Trực tuyến', offline: 'Ngoại tuyến',
    via_parent: 'qua cấp trên', enrolments: 'Yêu cầu gia nhập', approve: 'Duyệt',
    refuse: 'Từ chối', quarantine: 'Bản ghi bị cách ly', none: 'Không có',
    users: 'Người dùng', role: 'Vai trò', disabled: 'Đã khóa', categories: 'Lĩnh vực và thời hạn',
    settings: 'Cài đặt nút', tile_url: 'Máy chủ bản đồ nền (để trống: không dùng)',
    boundaries: 'Ranh giới đơn vị (GeoJSON)', upload: 'Tải lên', deadline_hours: 'Giờ làm việc',
    deadline_days: 'Ngày làm việc', name: 'Tên', active: 'Đang dùng',
    role_viewer: 'Xem', role_staff: 'Cán bộ', role_leader: 'Lãnh đạo', role_admin: 'Quản trị',
    citizen_intro: 'Gửi phản ánh về hạ tầng, môi trường, trật tự đô thị. Không cần tài khoản.',
    your_name: 'Họ tên (không bắt buộc)', phone: 'Số điện thoại (không bắt buộc)',
    location: 'Vị trí', need_location: 'Hãy chọn vị trí: dùng vị trí của bạn hoặc bấm vào bản đồ (địa chỉ giúp cán bộ tìm đến nơi).', use_my_location: 'Dùng vị trí của tôi', pick_on_map: 'Hoặc chọn trên bản đồ',
    photo: 'Ảnh (không bắt buộc)', submitted: 'Đã gửi. Mã tra cứu của bạn:',
    tracking_code: 'Mã tra cứu', lookup: 'Tra cứu', rate: 'Đánh giá kết quả',
    r_satisfied: 'Hài lòng', r_acceptable: 'Chấp nhận được', r_unsatisfied: 'Không hài lòng',
    staff_login: 'Cán bộ đăng nhập', loading: 'Đang tải…', new_report: 'Phản ánh mới',
    sort: 'Sắp xếp', newest: 'Mới nhất', oldest: 'Cũ nhất', reload: 'Có dữ liệu mới, tải lại',
    hours: 'giờ', resolve_avg: 'Thời gian xử lý TB', ago: 'trước', just_now: 'vừa xong',
    upstream: 'cấp trên', downstream: 'cấp dưới',
    news_only: 'Chỉ nhận tin cơ cấu', waiting_tree: 'Chờ cây đơn vị mới',
    toast_new: 'Phản ánh mới {id}', toast_escalated: 'Phản ánh {id} quá hạn, đã chuyển lên cấp trên',
  },
  en: {
    app: 'Lien thong', login: 'Log in', logout: 'Log out', user: 'User', password: 'Password',
    login_failed: 'Login failed', dashboard: 'Dashboard', reports: 'Reports', network: 'Network',
    admin: 'Admin', public_submit: 'Submit a report', public_track: 'Track', public_map: 'Map',
    live_on: 'Live', live_off: 'Disconnected', lang: 'Tiếng Việt',
    received: 'Received', processed: 'Processed', on_time: 'On time', satisfaction: 'Satisfied',
    overdue: 'Overdue', total: 'Total', open: 'Open', sync_health: 'Sync', by_child: 'By unit',
    trend: 'Trend', weekly: 'Last 8 weeks', map: 'Map', no_data: 'No data yet', search: 'Search', status: 'Status',
    category: 'Category', unit: 'Unit', from: 'From', to: 'To', all: 'All', filter: 'Filter',
    more: 'More', code: 'Code', title: 'Title', created: 'Submitted', deadline: 'Deadline',
    description: 'Description', address: 'Address', answer: 'Answer', reason: 'Reason',
    note: 'Note', history: 'Timeline', photos: 'Photos', actions: 'Actions', reporter: 'Reporter',
    owner: 'Responsible unit', statistics: 'Statistics', not_found: 'Not found',
    http_400: 'Invalid input', http_401: 'Login needed', http_403: 'Not allowed',
    http_404: 'Not found', http_409: 'Not possible in this state',
    http_413: 'Too large', http_429: 'Too many requests, retry later',
    http_500: 'Server error', http_503: 'Server busy, retry',
    forbidden: 'You may not see this', error: 'Error', save: 'Save', cancel: 'Cancel',
    delete: 'Delete', add: 'Add', send: 'Send', done: 'Saved',
    st_new: 'New', st_received: 'Received', st_assigned: 'Assigned', st_in_progress: 'In progress',
    st_resolved: 'Resolved', st_closed: 'Closed', st_rejected: 'Rejected', st_duplicate: 'Duplicate',
    st_transferred: 'Transferred', st_reopened: 'Reopened',
    act_receive: 'Receive', act_assign: 'Assign', act_start: 'Start', act_resolve: 'Resolve',
    act_close: 'Close', act_reject: 'Reject', act_duplicate: 'Mark duplicate',
    act_transfer: 'Transfer', act_reopen: 'Reopen', act_comment: 'Comment', act_rate: 'Rate',
    act_escalate: 'Escalate', act_create: 'Submitted',
    node: 'Node', this_node: 'This node', state: 'State', last_sync: 'Last sync', backlog_out: 'To send',
    backlog_in: 'To receive', errors: 'Errors', online: 'Online', offline: 'Offline',
    via_parent: 'via its parent', enrolments: 'Enrolment requests', approve: 'Approve',
    refuse: 'Refuse', quarantine: 'Quarantined entries', none: 'None', users: 'Users',
    role: 'Role', disabled: 'Disabled', categories: 'Categories and deadlines',
    settings: 'Node settings', tile_url: 'Tile server (empty: none)',
    boundaries: 'Unit boundaries (GeoJSON)', upload: 'Upload', deadline_hours: 'Working hours',
    deadline_days: 'Working days', name: 'Name', active: 'Active',
    role_viewer: 'Viewer', role_staff: 'Staff', role_leader: 'Leader', role_admin: 'Admin',
    citizen_intro: 'Report a problem with roads, environment or public order. No account needed.',
    your_name: 'Your name (optional)', phone: 'Phone (optional)', location: 'Location',
    need_location: 'Choose the location: use your location or click the map (the address helps staff find it).',
    use_my_location: 'Use my location', pick_on_map: 'Or pick it on the map',
    photo: 'Photo (optional)', submitted: 'Sent. Your tracking code:',
    tracking_code: 'Tracking code', lookup: 'Look up', rate: 'Rate the answer',
    r_satisfied: 'Satisfied', r_acceptable: 'Acceptable', r_unsatisfied: 'Unsatisfied',
    staff_login: 'Staff login', loading: 'Loading…', new_report: 'New report', sort: 'Sort',
    newest: 'Newest', oldest: 'Oldest', reload: 'New data: reload', hours: 'h',
    resolve_avg: 'Average time to resolve', ago: 'ago', just_now: 'just now',
    upstream: 'upstream', downstream: 'downstream',
    news_only: 'Membership news only', waiting_tree: 'Waiting for the unit tree',
    toast_new: 'New report {id}', toast_escalated: 'Report {id} is overdue and was escalated',
  },
};

let lang = localStorage.getItem('lt_lang') === 'en' ? 'en' : 'vi';

export const getLang = () => lang;
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'vi';
  localStorage.setItem('lt_lang', lang);
  document.documentElement.lang = lang;
}
document.documentElement.lang = lang;

// The text of key in the current language; {name} in it is replaced from vars.
export function t(key, vars) {
  const s = table[lang][key] ?? table.vi[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '') : s;
}

const tz = 'Asia/Ho_Chi_Minh';
const dtf = new Intl.DateTimeFormat('vi-VN', { timeZone: tz, day: '2-digit', month: '2-digit',
  year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
const df = new Intl.DateTimeFormat('vi-VN', { timeZone: tz, day: '2-digit', month: '2-digit',
  year: 'numeric' });
const nf = new Intl.NumberFormat('vi-VN');
const pf = new Intl.NumberFormat('vi-VN', { style: 'percent', maximumFractionDigits: 1 });

// Dates and numbers are always in the Vietnamese format (dd/mm/yyyy hh:mm,
// 1.234,5), in Vietnam's time zone, whatever the language.
export const fmtDateTime = (ms) => (ms ? dtf.format(new Date(ms)) : '–');
export const fmtDate = (ms) => (ms ? df.format(new Date(ms)) : '–');
export const fmtNum = (n) => (n == null || Number.isNaN(n) ? '–' : nf.format(n));
export const fmtPct = (x) => (x == null || Number.isNaN(x) ? '–' : pf.format(x));
export function fmtAgo(ms) {
  if (!ms) return '–';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 5) return t('just_now');
  const v = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} ph` : s < 86400
    ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} d`;
  return `${v} ${t('ago')}`;
}
